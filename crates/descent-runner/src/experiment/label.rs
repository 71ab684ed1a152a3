//! Short human labels of a run's configuration: `sgd(momentum=0.9)`, `cosine(T_max=100)`.

use descent_optim::{GdMode, OptimizerConfig, ScheduleConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The labels of one run's configuration, axis by axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Label {
    /// The problem's name.
    pub problem: String,
    /// The optimizer and its non-default hyperparameters (the learning rate aside).
    pub optimizer: String,
    /// The base learning rate.
    pub lr: String,
    /// The schedule and its parameters.
    pub schedule: String,
    /// The batch mode.
    pub mode: String,
    /// The seed.
    pub seed: u64,
}

impl Label {
    /// The labels of a configuration.
    pub fn new(
        problem: &str,
        optimizer: &OptimizerConfig,
        schedule: &ScheduleConfig,
        mode: GdMode,
        seed: u64,
    ) -> Self {
        Label {
            problem: problem.to_string(),
            optimizer: optimizer_label(optimizer),
            lr: format_number(optimizer.lr()),
            schedule: tagged_label(schedule, &[]),
            mode: mode.to_string(),
            seed,
        }
    }

    /// The configuration over seeds: `sgd(momentum=0.9) lr=0.01 constant mini-batch(32)`.
    pub fn config(&self) -> String {
        format!(
            "{} lr={} {} {}",
            self.optimizer, self.lr, self.schedule, self.mode
        )
    }
}

/// `sgd`, `sgd(momentum=0.9)`: the name and the hyperparameters that differ from
/// the optimizer's defaults, the learning rate aside.
pub fn optimizer_label(config: &OptimizerConfig) -> String {
    tagged_label(config, &["lr"])
}

/// A number in its shortest form: `0.001`, `3e-5`, `100`.
pub fn format_number(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// `name(field=value, ...)` for a serde enum tagged by `name`: the fields that differ
/// from the defaults one gets by naming it with only its required fields.
fn tagged_label<C: Serialize + for<'de> Deserialize<'de>>(config: &C, skip: &[&str]) -> String {
    let Ok(Value::Object(fields)) = serde_json::to_value(config) else {
        return "?".to_string();
    };
    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let (defaults, required) = defaults_of::<C>(&fields).unwrap_or_default();
    let parts: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k.as_str() != "name" && !skip.contains(&k.as_str()))
        .filter(|(k, v)| required.contains(*k) || defaults.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect();
    if parts.is_empty() {
        name
    } else {
        format!("{name}({})", parts.join(", "))
    }
}

/// The serialised defaults of a tagged config and its required fields: start from its
/// name, add each field a deserialiser says is missing, and stop when it parses.
fn defaults_of<C: Serialize + for<'de> Deserialize<'de>>(
    fields: &Map<String, Value>,
) -> Option<(Map<String, Value>, Vec<String>)> {
    let mut minimal = Map::new();
    let mut required = Vec::new();
    minimal.insert("name".to_string(), fields.get("name")?.clone());
    for _ in 0..=fields.len() {
        match serde_json::from_value::<C>(Value::Object(minimal.clone())) {
            Ok(c) => match serde_json::to_value(c) {
                Ok(Value::Object(m)) => return Some((m, required)),
                _ => return None,
            },
            Err(e) => {
                let message = e.to_string();
                let missing = message
                    .strip_prefix("missing field `")?
                    .split('`')
                    .next()?
                    .to_string();
                let value = fields.get(&missing)?.clone();
                required.push(missing.clone());
                minimal.insert(missing, value);
            }
        }
    }
    None
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), format_number),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(value_text).collect();
            format!("[{}]", inner.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_show_only_what_differs_from_the_defaults() {
        let sgd: OptimizerConfig = toml::from_str("name = \"sgd\"\nlr = 0.1").unwrap();
        assert_eq!(optimizer_label(&sgd), "sgd");
        let momentum: OptimizerConfig =
            toml::from_str("name = \"sgd\"\nmomentum = 0.9\nnesterov = true").unwrap();
        assert_eq!(
            optimizer_label(&momentum),
            "sgd(momentum=0.9, nesterov=true)"
        );
        let adam: OptimizerConfig = toml::from_str("name = \"adam\"\nbetas = [0.5, 0.9]").unwrap();
        assert_eq!(optimizer_label(&adam), "adam(betas=[0.5, 0.9])");
        let cosine: ScheduleConfig = toml::from_str("name = \"cosine\"\nT_max = 100").unwrap();
        assert_eq!(tagged_label(&cosine, &[]), "cosine(T_max=100)");
        let step: ScheduleConfig =
            toml::from_str("name = \"step\"\nstep_size = 10\ngamma = 0.5").unwrap();
        // Fields in name order (serde_json maps are sorted).
        assert_eq!(tagged_label(&step, &[]), "step(gamma=0.5, step_size=10)");
        assert_eq!(tagged_label(&ScheduleConfig::Constant {}, &[]), "constant");
        assert_eq!(format_number(3e-5), "3e-5");
        assert_eq!(format_number(0.01), "0.01");
    }
}

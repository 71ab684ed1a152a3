//! Checks of a parsed experiment beyond what serde checks: names, ranges, combinations.
//! Every problem is reported, each with its field and line.

use std::collections::BTreeSet;
use std::path::Path;

use descent_data::Shipped;
use descent_optim::{BuiltOptimizer, OptimizerConfig};

use super::error::{FieldPath, Source, SpecError};
use super::spec::{Distribution, ExperimentSpec, LrAxis, SearchMode};

/// Every metric a run can report.
pub const METRICS: &[&str] = &["accuracy", "log_loss", "mse", "rmse", "mae", "r2"];

/// The optimizers a sweep can run (those that step from given gradients).
const SWEEP_OPTIMIZERS: &[&str] = &[
    "sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "adadelta",
];

pub(super) fn validate(spec: &ExperimentSpec, src: &Source<'_>, base: &Path) -> Vec<SpecError> {
    let mut errors = Vec::new();
    let mut err = |path: FieldPath, message: String| errors.push(src.at_field(&path, message));

    if spec.name.trim().is_empty() {
        err(FieldPath::root("name"), "must not be empty".into());
    }
    if spec.problems.is_empty() {
        err(
            FieldPath::root("problems"),
            "needs at least one problem ([[problems]])".into(),
        );
    }
    let mut names = BTreeSet::new();
    let split_everywhere = spec.problems.iter().all(|p| p.split.is_some());
    for (i, p) in spec.problems.iter().enumerate() {
        let at = FieldPath::root("problems").index(i);
        if !names.insert(p.name.as_str()) {
            err(
                at.key("name"),
                format!("problem `{}` is named twice", p.name),
            );
        }
        match (&p.dataset, &p.csv) {
            (Some(_), Some(_)) => err(at.key("csv"), "give `dataset` or `csv`, not both".into()),
            (None, None) => err(
                at.clone(),
                "needs `dataset` (a shipped data set) or `csv` (a file)".into(),
            ),
            (Some(name), None) => {
                if name.parse::<Shipped>().is_err() {
                    err(
                        at.key("dataset"),
                        format!(
                            "unknown data set `{name}`; shipped data sets: {}",
                            Shipped::ALL.map(|s| s.name()).join(", ")
                        ),
                    );
                }
            }
            (None, Some(csv)) => {
                if csv.delimiter.len() != 1 || !csv.delimiter.is_ascii() {
                    err(
                        at.key("csv").key("delimiter"),
                        format!("must be one ASCII character, found `{}`", csv.delimiter),
                    );
                }
                let path = if csv.path.is_absolute() {
                    csv.path.clone()
                } else {
                    base.join(&csv.path)
                };
                if !path.is_file() {
                    err(
                        at.key("csv").key("path"),
                        format!("no such file: {}", path.display()),
                    );
                }
            }
        }
        if let Some(split) = &p.split
            && !(split.validation > 0.0 && split.validation < 1.0)
        {
            err(
                at.key("split").key("validation"),
                format!("must be a fraction in (0, 1), found {}", split.validation),
            );
        }
        if p.model.hidden.contains(&0) {
            err(
                at.key("model").key("hidden"),
                "every hidden layer needs at least one unit".into(),
            );
        }
        if p.target_loss.is_some_and(|t| !t.is_finite()) {
            err(at.key("target_loss"), "must be a finite number".into());
        }
    }

    let b = &spec.budget;
    let given: Vec<(&str, u64)> = [
        ("epochs", b.epochs),
        ("steps", b.steps),
        ("gradient_evaluations", b.gradient_evaluations),
    ]
    .into_iter()
    .filter_map(|(n, v)| v.map(|v| (n, v)))
    .collect();
    match given.as_slice() {
        [] => err(
            FieldPath::root("budget"),
            "give one of `epochs`, `steps` or `gradient_evaluations`".into(),
        ),
        [(name, 0)] => err(
            FieldPath::root("budget").key(name),
            "must be at least 1".into(),
        ),
        [_] => {}
        _ => err(
            FieldPath::root("budget"),
            format!(
                "give only one of `epochs`, `steps` or `gradient_evaluations`, found {}",
                given
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ),
    }
    if spec.target_loss.is_some_and(|t| !t.is_finite()) {
        err(
            FieldPath::root("target_loss"),
            "must be a finite number".into(),
        );
    }
    for (i, m) in spec.metrics.iter().enumerate() {
        if !METRICS.contains(&m.as_str()) {
            err(
                FieldPath::root("metrics").index(i),
                format!(
                    "unknown metric `{m}`; valid metrics: {}",
                    METRICS.join(", ")
                ),
            );
        }
    }
    if spec.training.early_stopping.is_some() && !split_everywhere {
        err(
            FieldPath::root("training").key("early_stopping"),
            "early stopping needs a validation split (`split = { validation = 0.2 }`) on every problem"
                .into(),
        );
    }

    let axes = FieldPath::root("axes");
    if spec.axes.optimizers.is_empty() {
        err(
            axes.key("optimizers"),
            "needs at least one optimizer".into(),
        );
    }
    for (i, o) in spec.axes.optimizers.iter().enumerate() {
        let at = axes.key("optimizers").index(i);
        match o.build::<f64>() {
            Ok(BuiltOptimizer::Step(_)) => {}
            Ok(_) => err(
                at.key("name"),
                format!(
                    "`{}` evaluates the objective itself and cannot run in a sweep; \
                     sweep optimizers: {}",
                    o.name(),
                    SWEEP_OPTIMIZERS.join(", ")
                ),
            ),
            Err(e) => err(at, e.to_string()),
        }
    }
    match &spec.axes.learning_rates {
        Some(LrAxis::List(rates)) => {
            if rates.is_empty() {
                err(axes.key("learning_rates"), "needs at least one rate".into());
            }
            for (i, &lr) in rates.iter().enumerate() {
                if !(lr.is_finite() && lr > 0.0) {
                    err(
                        axes.key("learning_rates").index(i),
                        format!("a learning rate must be a finite number > 0, found {lr}"),
                    );
                }
            }
        }
        Some(LrAxis::Draw(dist)) => {
            let at = axes.key("learning_rates");
            if spec.search.mode == SearchMode::Grid {
                err(
                    at.clone(),
                    "a distribution needs random search: add `[search]` with \
                     `mode = \"random\"` and `samples`, or list the rates"
                        .into(),
                );
            }
            check_distribution(dist, true, &at, &mut err);
        }
        None => {}
    }
    for (i, s) in spec.axes.schedules.iter().enumerate() {
        if let Err(e) = s.build(0.01) {
            err(axes.key("schedules").index(i), e.to_string());
        }
    }
    for (name, len) in [
        ("schedules", spec.axes.schedules.len()),
        ("batch_modes", spec.axes.batch_modes.len()),
        ("seeds", spec.axes.seeds.len()),
    ] {
        if len == 0 {
            err(axes.key(name), "needs at least one value".into());
        }
    }

    let search = FieldPath::root("search");
    match spec.search.mode {
        SearchMode::Grid => {
            if spec.search.samples.is_some() {
                err(
                    search.key("samples"),
                    "`samples` needs `mode = \"random\"`".into(),
                );
            }
            if !spec.search.hyperparameters.is_empty() {
                err(
                    search.key("hyperparameters"),
                    "drawn hyperparameters need `mode = \"random\"`".into(),
                );
            }
        }
        SearchMode::Random => {
            if spec.search.samples.is_none_or(|n| n == 0) {
                err(
                    search.key("samples"),
                    "random search needs `samples`, at least 1".into(),
                );
            }
        }
    }
    let fields = hyperparameter_names(&spec.axes.optimizers);
    for (name, dist) in &spec.search.hyperparameters {
        let at = search.key("hyperparameters").key(name);
        if !fields.contains(name) {
            err(
                at.clone(),
                format!(
                    "no optimizer of `axes.optimizers` has a hyperparameter `{name}`; theirs: {}",
                    fields
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        check_distribution(dist, false, &at, &mut err);
    }
    errors
}

fn check_distribution(
    dist: &Distribution,
    numeric: bool,
    at: &FieldPath,
    err: &mut impl FnMut(FieldPath, String),
) {
    match dist {
        Distribution::Uniform([low, high]) => {
            if !(low.is_finite() && high.is_finite() && low < high) {
                err(
                    at.key("uniform"),
                    format!("needs finite bounds with low < high, found [{low}, {high}]"),
                );
            }
        }
        Distribution::LogUniform([low, high]) => {
            if !(low.is_finite() && high.is_finite() && *low > 0.0 && low < high) {
                err(
                    at.key("log_uniform"),
                    format!("needs bounds with 0 < low < high, found [{low}, {high}]"),
                );
            }
        }
        Distribution::Choice(values) => {
            if values.is_empty() {
                err(at.key("choice"), "needs at least one value".into());
            }
            if numeric && values.iter().any(|v| v.as_f64().is_none_or(|x| x <= 0.0)) {
                err(
                    at.key("choice"),
                    "learning rates must be numbers > 0".into(),
                );
            }
        }
    }
}

/// The hyperparameter names of these optimizers (the learning rate aside).
fn hyperparameter_names(optimizers: &[OptimizerConfig]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for o in optimizers {
        if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(o) {
            for k in map.keys() {
                if k != "name" && k != "lr" {
                    names.insert(k.clone());
                }
            }
        }
    }
    names
}

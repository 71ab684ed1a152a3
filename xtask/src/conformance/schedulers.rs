//! `schedulers.json`: PyTorch learning-rate schedules over 100 steps (rtol 1e-12), and
//! scikit-learn's SGD learning-rate rules.

use anyhow::{Context, Result, bail, ensure};
use descent_optim::ScheduleConfig;
use descent_optim::schedule::Scheduler;
use serde_json::{Map, Value};

use super::{Report, float_field, floats, max_relative_error};

const RTOL: f64 = 1e-12;
/// Values below this are compared absolutely (atol 1e-18).
const FLOOR: f64 = 1e-6;

/// Runs every case of a `schedulers.json` file, and its `sklearn_sgd_learning_rate` entries.
pub fn run(file: &Value, report: &mut Report) -> Result<()> {
    let cases = file
        .get("cases")
        .and_then(Value::as_array)
        .context("no `cases`")?;
    let num_steps = file.get("num_steps").and_then(Value::as_u64);
    for case in cases {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        match run_case(case, num_steps) {
            Ok(err) => report.check(&format!("schedulers/{name}"), err, RTOL),
            Err(e) => report.unrunnable(&format!("schedulers/{name}"), &format!("{e:#}")),
        }
    }
    for entry in file
        .get("sklearn_sgd_learning_rate")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        let args = entry.get("args").cloned().unwrap_or(Value::Null);
        let label = format!("schedulers/sklearn_{name}({args})");
        match run_sklearn(entry) {
            Ok(err) => report.check(&label, err, RTOL),
            Err(e) => report.unrunnable(&label, &format!("{e:#}")),
        }
    }
    Ok(())
}

/// Our configuration for a PyTorch scheduler class and its constructor arguments.
pub fn config(class: &str, args: &Value) -> Result<ScheduleConfig> {
    let mut args: Map<String, Value> = args.as_object().context("`args` is not an object")?.clone();
    let name = match class {
        "StepLR" => "step",
        "MultiStepLR" => "multi_step",
        "ExponentialLR" => "exponential",
        "CosineAnnealingLR" => "cosine",
        "CosineAnnealingWarmRestarts" => "cosine_warm_restarts",
        "LinearLR" => "linear",
        "ConstantLR" => "constant_factor",
        "PolynomialLR" => "polynomial",
        "OneCycleLR" => "one_cycle",
        "CyclicLR" => "cyclic",
        "ReduceLROnPlateau" => "reduce_on_plateau",
        "SequentialLR" => {
            let children = args
                .get("schedulers")
                .and_then(Value::as_array)
                .context("no `schedulers`")?;
            let children = children
                .iter()
                .map(|child| {
                    let class = child
                        .get("scheduler")
                        .and_then(Value::as_str)
                        .context("no `scheduler`")?;
                    let config = config(class, child.get("args").context("no `args`")?)?;
                    Ok(serde_json::to_value(config)?)
                })
                .collect::<Result<Vec<_>>>()?;
            args.insert("schedulers".into(), Value::Array(children));
            "sequential"
        }
        other => bail!("unknown scheduler class `{other}`"),
    };
    args.insert("name".into(), Value::String(name.into()));
    serde_json::from_value(Value::Object(args)).context("arguments do not fit our configuration")
}

fn run_case(case: &Value, num_steps: Option<u64>) -> Result<f64> {
    let class = case
        .get("scheduler")
        .and_then(Value::as_str)
        .context("no `scheduler`")?;
    let config = config(class, case.get("args").context("no `args`")?)?;
    let base_lr = float_field(case, "base_lr")?;
    let want_lr = floats(case.get("lr").context("no `lr`")?)?;
    if let Some(n) = num_steps {
        ensure!(
            want_lr.len() as u64 == n,
            "{} values for num_steps {n}",
            want_lr.len()
        );
    }
    let mut scheduler = config.build(base_lr)?;
    let metrics = case.get("metrics").map(floats).transpose()?;
    let mut lr = Vec::with_capacity(want_lr.len());
    let mut momentum = Vec::with_capacity(want_lr.len());
    for i in 0..want_lr.len() {
        lr.push(scheduler.lr(i as u64));
        momentum.push(scheduler.momentum(i as u64));
        if let Scheduler::Plateau(_) = scheduler {
            let metrics = metrics
                .as_ref()
                .context("reduce-on-plateau without `metrics`")?;
            scheduler.observe(*metrics.get(i).context("too few metrics")?);
        }
    }
    let mut worst = max_relative_error(&lr, &want_lr, FLOOR);
    if let Some(want) = case.get("momentum") {
        let want = floats(want)?;
        let got: Vec<f64> = momentum.iter().map(|m| m.unwrap_or(f64::NAN)).collect();
        worst = worst.max(max_relative_error(&got, &want, FLOOR));
    }
    Ok(worst)
}

fn run_sklearn(entry: &Value) -> Result<f64> {
    let args = entry.get("args").context("no `args`")?;
    let rule = args
        .get("learning_rate")
        .and_then(Value::as_str)
        .context("no `learning_rate`")?;
    let (config, base) = match rule {
        "invscaling" => (
            ScheduleConfig::InvScaling {
                power_t: float_field(args, "power_t")?,
            },
            float_field(args, "eta0")?,
        ),
        "optimal" => (
            ScheduleConfig::Optimal {
                alpha: float_field(args, "alpha")?,
            },
            0.0,
        ),
        other => bail!("unknown scikit-learn learning_rate `{other}`"),
    };
    let schedule = config.build_pure(base)?;
    let t: Vec<u64> = entry
        .get("t")
        .and_then(Value::as_array)
        .context("no `t`")?
        .iter()
        .map(|t| {
            t.as_u64()
                .filter(|&t| t >= 1)
                .context("`t` entries are counts from 1")
        })
        .collect::<Result<_>>()?;
    let want = floats(entry.get("eta").context("no `eta`")?)?;
    let got: Vec<f64> = t.iter().map(|&t| schedule.lr(t - 1)).collect();
    Ok(max_relative_error(&got, &want, FLOOR))
}

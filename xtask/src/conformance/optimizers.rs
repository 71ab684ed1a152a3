//! `optimizers.json`: PyTorch optimizer trajectories, fed the recorded gradient of each
//! step (rtol 1e-10), and L-BFGS run on the file's test problem (rtol 1e-9, exact
//! evaluation counters).

use anyhow::{Context, Result, bail, ensure};
use descent_optim::{BuiltOptimizer, OptimizerConfig};
use ndarray::{ArrayD, IxDyn};
use serde_json::{Map, Value};

use super::{Report, float_field, floats, max_relative_error};

/// Relative tolerance of trajectories; values below `FLOOR` are compared absolutely
/// (atol = rtol·FLOOR = 1e-12, as the reference README suggests).
const RTOL: f64 = 1e-10;
const LBFGS_RTOL: f64 = 1e-9;
const FLOOR: f64 = 1e-2;

/// Runs every case of an `optimizers.json` file.
pub fn run(file: &Value, report: &mut Report) -> Result<()> {
    let cases = file
        .get("cases")
        .and_then(Value::as_array)
        .context("no `cases`")?;
    for case in cases {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        let label = format!("optimizers/{name}");
        let outcome = if case.get("optimizer").and_then(Value::as_str) == Some("LBFGS") {
            run_lbfgs(case).map(|(err, counters)| (err, counters, LBFGS_RTOL))
        } else {
            run_trajectory(case).map(|err| (err, None, RTOL))
        };
        match outcome {
            Ok((err, None, tol)) => report.check(&label, err, tol),
            Ok((_, Some(mismatch), _)) => report.record(&label, false, &mismatch),
            Err(e) => report.unrunnable(&label, &format!("{e:#}")),
        }
    }
    Ok(())
}

/// Our configuration for a case: PyTorch's complete `hyperparameters`, less the
/// implementation flags, tagged with our name. Unknown hyperparameters are errors.
pub fn config(case: &Value) -> Result<OptimizerConfig> {
    let class = case
        .get("optimizer")
        .and_then(Value::as_str)
        .context("no `optimizer`")?;
    let mut hyper: Map<String, Value> = case
        .get("hyperparameters")
        .and_then(Value::as_object)
        .context("no `hyperparameters`")?
        .clone();
    for flag in ["foreach", "fused", "capturable", "differentiable"] {
        hyper.remove(flag);
    }
    let name = match class {
        "SGD" => "sgd",
        "Adagrad" => "adagrad",
        "RMSprop" => "rmsprop",
        "Adam" => "adam",
        "AdamW" => {
            ensure!(
                hyper.remove("decoupled_weight_decay") == Some(Value::Bool(true)),
                "AdamW without decoupled weight decay"
            );
            "adamw"
        }
        "Adamax" => "adamax",
        "NAdam" => "nadam",
        "RAdam" => "radam",
        "Adadelta" => "adadelta",
        "LBFGS" => {
            ensure!(
                hyper.remove("maximize") != Some(Value::Bool(true)),
                "LBFGS with maximize"
            );
            if hyper.get("line_search_fn") == Some(&Value::Null) {
                hyper.insert("line_search_fn".into(), Value::String("none".into()));
            }
            "lbfgs"
        }
        other => bail!("unknown optimizer class `{other}`"),
    };
    hyper.insert("name".into(), Value::String(name.into()));
    serde_json::from_value(Value::Object(hyper))
        .context("hyperparameters do not fit our configuration")
}

fn run_trajectory(case: &Value) -> Result<f64> {
    let BuiltOptimizer::Step(mut optimizer) = config(case)?.build::<f64>()? else {
        bail!("not a gradient-stepping optimizer");
    };
    let lr = config(case)?.lr();
    let initial = floats(case.get("initial_params").context("no `initial_params`")?)?;
    let mut params = ArrayD::from_shape_vec(IxDyn(&[initial.len()]), initial)?;
    let steps = case
        .get("steps")
        .and_then(Value::as_array)
        .context("no `steps`")?;
    let num_steps = case
        .get("num_steps")
        .and_then(Value::as_u64)
        .context("no `num_steps`")?;
    ensure!(
        steps.len() as u64 == num_steps,
        "{} steps recorded, num_steps {num_steps}",
        steps.len()
    );
    let mut worst: f64 = 0.0;
    for step in steps {
        let grad = floats(step.get("grad").context("step without `grad`")?)?;
        let grad = ArrayD::from_shape_vec(IxDyn(&[grad.len()]), grad)?;
        optimizer.step(&mut [params.view_mut()], &[grad.view()], lr)?;
        let want = floats(step.get("params").context("step without `params`")?)?;
        worst = worst.max(max_relative_error(
            params.as_slice().context("contiguous")?,
            &want,
            FLOOR,
        ));
    }
    Ok(worst)
}

/// The test problem `f(p) = Σ a_i (p_i − c_i)²/2 + b Σ p_i⁴/4`.
pub struct Problem {
    a: Vec<f64>,
    c: Vec<f64>,
    b: f64,
}

impl Problem {
    /// Reads `problem` of a case.
    pub fn read(case: &Value) -> Result<Self> {
        let p = case.get("problem").context("no `problem`")?;
        let kind = p.get("kind").and_then(Value::as_str).unwrap_or("");
        ensure!(
            kind == "quadratic_plus_quartic",
            "unknown problem kind `{kind}`"
        );
        let a = floats(p.get("a").context("no `a`")?)?;
        let c = floats(p.get("c").context("no `c`")?)?;
        ensure!(a.len() == c.len(), "`a` and `c` differ in length");
        Ok(Self {
            a,
            c,
            b: float_field(p, "b")?,
        })
    }

    /// f(x), writing ∇f(x) into `grad`.
    pub fn eval(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut quad = 0.0;
        let mut quart = 0.0;
        for i in 0..x.len() {
            let d = x[i] - self.c[i];
            quad += self.a[i] * d * d / 2.0;
            quart += x[i].powi(4);
            grad[i] = self.a[i] * d + self.b * x[i] * x[i] * x[i];
        }
        quad + self.b * quart / 4.0
    }
}

/// Runs an L-BFGS case; `Ok((err, Some(why)))` when a counter differs.
fn run_lbfgs(case: &Value) -> Result<(f64, Option<String>)> {
    let BuiltOptimizer::Lbfgs(mut lbfgs) = config(case)?.build::<f64>()? else {
        bail!("not L-BFGS");
    };
    let problem = Problem::read(case)?;
    let mut x = floats(case.get("initial_params").context("no `initial_params`")?)?;
    let steps = case
        .get("steps")
        .and_then(Value::as_array)
        .context("no `steps`")?;
    let mut worst: f64 = 0.0;
    for step in steps {
        let k = step.get("step").and_then(Value::as_u64).unwrap_or(0);
        let mut evaluations: Vec<Vec<f64>> = Vec::new();
        let evals_before = lbfgs.state().func_evals;
        let returned = lbfgs.step_flat(&mut x, |x, g| {
            evaluations.push(x.to_vec());
            problem.eval(x, g)
        })?;
        let counter = |key: &str| {
            step.get(key)
                .and_then(Value::as_u64)
                .with_context(|| format!("no `{key}`"))
        };
        let got = [
            ("func_evals", lbfgs.state().func_evals - evals_before),
            ("func_evals_total", lbfgs.state().func_evals),
            ("n_iter_total", lbfgs.state().n_iter),
        ];
        for (key, value) in got {
            let want = counter(key)?;
            if value != want {
                return Ok((
                    f64::INFINITY,
                    Some(format!("step {k}: {key} = {value}, want {want}")),
                ));
            }
        }
        let recorded = step
            .get("evaluations")
            .and_then(Value::as_array)
            .context("no `evaluations`")?;
        if recorded.len() != evaluations.len() {
            return Ok((
                f64::INFINITY,
                Some(format!(
                    "step {k}: {} evaluations, want {}",
                    evaluations.len(),
                    recorded.len()
                )),
            ));
        }
        for (got, want) in evaluations.iter().zip(recorded) {
            let want = floats(want.get("params").context("evaluation without `params`")?)?;
            worst = worst.max(max_relative_error(got, &want, FLOOR));
        }
        worst = worst.max(max_relative_error(
            &[returned],
            &[float_field(step, "returned_loss")?],
            FLOOR,
        ));
        let want = floats(step.get("params").context("step without `params`")?)?;
        worst = worst.max(max_relative_error(&x, &want, FLOOR));
    }
    Ok((worst, None))
}

//! `descent calc minimize`: an expression minimised by any of descent-optim's optimizers,
//! with gradients by reverse mode through the compiled graph, shown step by step.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use descent_autodiff::symbolic::{Point, reverse_gradient, simplify};
use descent_optim::{OptimizerConfig, ScheduleConfig};
use ndarray::{ArrayD, arr0};
use serde_json::{Map, Value};

use super::point::{check_point, parse_point};
use super::{number, parse_expr, plot, table};

/// Arguments of `descent calc minimize`.
#[derive(Debug, Args)]
pub struct MinimizeArgs {
    /// The expression to minimise.
    expr: String,
    /// The starting point, such as x=4 or x=1,y=-1.
    #[arg(long, allow_hyphen_values = true)]
    from: String,
    /// The (base) learning rate.
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    /// The number of steps.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// The optimizer: sgd, adagrad, rmsprop, adam, adamw, adamax, nadam, radam,
    /// adadelta, with hyperparameters after commas (adam,betas=[0.9,0.99]).
    #[arg(long, default_value = "sgd")]
    optimizer: String,
    /// A learning-rate schedule with its parameters after commas
    /// (step,step_size=3,gamma=0.5 or exponential,gamma=0.9).
    #[arg(long)]
    schedule: Option<String>,
    /// Write an SVG of the function and the path (one or two variables).
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// `name,key=value,...` as a JSON object `{"name": name, key: value, ...}`; values are
/// read as JSON (numbers, booleans, `[0.9,0.99]`) or else kept as strings.
fn spec(text: &str, flag: &str) -> Result<Map<String, Value>> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    let name = parts[0].trim();
    if name.is_empty() {
        bail!("{flag}: no name given");
    }
    let mut object = Map::new();
    object.insert("name".into(), Value::String(name.to_string()));
    for part in &parts[1..] {
        let Some((key, value)) = part.split_once('=') else {
            bail!(
                "{flag}: expected KEY=VALUE after the name, found {:?}",
                part.trim()
            );
        };
        let value = value.trim();
        let value =
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
        object.insert(key.trim().to_string(), value);
    }
    Ok(object)
}

/// One row of the trajectory: the point, the value and the gradient.
pub(crate) struct Step {
    pub(crate) x: Vec<f64>,
    pub(crate) f: f64,
    pub(crate) grad: Vec<f64>,
    pub(crate) lr: f64,
}

pub(crate) fn run(args: &MinimizeArgs) -> Result<String> {
    let f = parse_expr(&args.expr)?;
    let start = parse_point(&args.from, "--from")?;
    check_point(&f, &start, "--from")?;
    if !args.lr.is_finite() || args.lr <= 0.0 {
        bail!("--lr must be a positive number, not {}", args.lr);
    }
    let vars = f.variables();
    let names: Vec<&str> = vars.iter().map(String::as_str).collect();

    let mut optimizer_spec = spec(&args.optimizer, "--optimizer")?;
    optimizer_spec.entry("lr").or_insert(args.lr.into());
    let config: OptimizerConfig = serde_json::from_value(Value::Object(optimizer_spec))
        .with_context(|| format!("--optimizer {:?}", args.optimizer))?;
    let name = config.name();
    let mut optimizer = config
        .build::<f64>()
        .with_context(|| format!("--optimizer {name}"))?
        .into_step()
        .with_context(|| format!("--optimizer {name} evaluates the function itself; calc minimize steps from gradients (sgd, adam, ...)"))?;
    let schedule = match &args.schedule {
        Some(text) => {
            let config: ScheduleConfig =
                serde_json::from_value(Value::Object(spec(text, "--schedule")?))
                    .with_context(|| format!("--schedule {text:?}"))?;
            Some(
                config
                    .build(args.lr)
                    .with_context(|| format!("--schedule {text:?}"))?,
            )
        }
        None => None,
    };

    let mut params: Vec<ArrayD<f64>> = names.iter().map(|n| arr0(start[*n]).into_dyn()).collect();
    let mut steps: Vec<Step> = Vec::with_capacity(args.steps + 1);
    let mut failure = None;
    for k in 0..=args.steps {
        let point: Point = names
            .iter()
            .zip(&params)
            .map(|(n, p)| (n.to_string(), p.sum()))
            .collect();
        let (value, grad) = match reverse_gradient(&f, &point, &names) {
            Ok(result) => result,
            Err(error) => {
                failure = Some(format!("step {k}: {error}"));
                break;
            }
        };
        let lr = schedule.as_ref().map_or(args.lr, |s| s.lr(k as u64));
        steps.push(Step {
            x: point.values().copied().collect(),
            f: value,
            grad: grad.clone(),
            lr,
        });
        if k == args.steps {
            break;
        }
        let grads: Vec<ArrayD<f64>> = grad.iter().map(|g| arr0(*g).into_dyn()).collect();
        let grad_views: Vec<_> = grads.iter().map(|g| g.view()).collect();
        let mut views: Vec<_> = params.iter_mut().map(|p| p.view_mut()).collect();
        optimizer
            .step(&mut views, &grad_views, lr)
            .with_context(|| format!("step {k}"))?;
        if params.iter().any(|p| !p.sum().is_finite()) {
            failure = Some(format!(
                "step {}: the point is no longer finite (the learning rate is too large)",
                k + 1
            ));
            break;
        }
    }

    let mut out = String::new();
    writeln!(
        out,
        "minimise f({}) = {} with {name}, lr {}{}\n",
        vars.join(", "),
        simplify(&f),
        number(args.lr),
        args.schedule
            .as_ref()
            .map_or(String::new(), |s| format!(", schedule {s}"))
    )?;
    let mut header: Vec<String> = vec!["step".into()];
    header.extend(vars.iter().cloned());
    header.push("f".into());
    header.extend(vars.iter().map(|v| format!("df/d{v}")));
    if schedule.is_some() {
        header.push("lr".into());
    }
    let rows: Vec<Vec<String>> = steps
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let mut row = vec![k.to_string()];
            row.extend(s.x.iter().map(|v| number(*v)));
            row.push(number(s.f));
            row.extend(s.grad.iter().map(|v| number(*v)));
            if schedule.is_some() {
                row.push(number(s.lr));
            }
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    out.push_str(&table(&header, &rows));
    if let Some(path) = &args.plot {
        let svg = plot::svg(&f, &vars, &steps)?;
        plot::write_atomically(path, &svg)?;
        writeln!(out, "\nwrote {}", path.display())?;
    }
    if let Some(failure) = failure {
        print!("{out}");
        bail!("the descent stopped at {failure}");
    }
    Ok(out)
}

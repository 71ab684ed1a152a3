//! The recorded PyTorch / scikit-learn references (`tests/data/reference/` at the
//! repository root, copies of `shared/reference/`): every optimizer trajectory within
//! 1e-10 relative, L-BFGS within 1e-9 with exact counters, every schedule within 1e-12.
//! Everything — hyperparameters, step counts, the test problem — is read from the files.

use std::path::PathBuf;

use descent_optim::schedule::Scheduler;
use descent_optim::{BuiltOptimizer, OptimizerConfig, ScheduleConfig};
use ndarray::{ArrayD, IxDyn};
use serde_json::{Map, Value};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/reference")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

fn float(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::String(s) if s == "nan" => f64::NAN,
        other => other.as_f64().expect("a float"),
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(float).collect()
}

/// `max |got − want| / max(|want|, floor)`.
fn max_err(got: &[f64], want: &[f64], floor: f64) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(floor))
        .fold(0.0, f64::max)
}

fn optimizer_config(case: &Value) -> OptimizerConfig {
    let mut hyper: Map<String, Value> = case["hyperparameters"].as_object().unwrap().clone();
    for flag in ["foreach", "fused", "capturable", "differentiable"] {
        hyper.remove(flag);
    }
    let name = match case["optimizer"].as_str().unwrap() {
        "AdamW" => {
            assert_eq!(
                hyper.remove("decoupled_weight_decay"),
                Some(Value::Bool(true))
            );
            "adamw".to_string()
        }
        "LBFGS" => {
            assert_eq!(hyper.remove("maximize"), Some(Value::Bool(false)));
            if hyper["line_search_fn"].is_null() {
                hyper.insert("line_search_fn".into(), "none".into());
            }
            "lbfgs".to_string()
        }
        class => class.to_lowercase(),
    };
    hyper.insert("name".into(), name.into());
    serde_json::from_value(Value::Object(hyper)).expect("the hyperparameters fit our configuration")
}

fn objective(case: &Value) -> impl Fn(&[f64], &mut [f64]) -> f64 {
    let p = &case["problem"];
    assert_eq!(p["kind"], "quadratic_plus_quartic");
    let (a, c, b) = (floats(&p["a"]), floats(&p["c"]), float(&p["b"]));
    move |x, g| {
        let mut f = 0.0;
        for i in 0..x.len() {
            let d = x[i] - c[i];
            f += a[i] * d * d / 2.0 + b * x[i].powi(4) / 4.0;
            g[i] = a[i] * d + b * x[i].powi(3);
        }
        f
    }
}

#[test]
fn optimizers_follow_pytorch_step_by_step() {
    let file = load("optimizers.json");
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len() as u64, file["num_cases"].as_u64().unwrap());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let config = optimizer_config(case);
        let mut x = floats(&case["initial_params"]);
        let steps = case["steps"].as_array().unwrap();
        assert_eq!(steps.len() as u64, case["num_steps"].as_u64().unwrap());
        match config.build::<f64>().unwrap() {
            BuiltOptimizer::Step(mut optimizer) => {
                let n = x.len();
                let mut p = ArrayD::from_shape_vec(IxDyn(&[n]), x).unwrap();
                for step in steps {
                    let g = ArrayD::from_shape_vec(IxDyn(&[n]), floats(&step["grad"])).unwrap();
                    optimizer
                        .step(&mut [p.view_mut()], &[g.view()], config.lr())
                        .unwrap();
                    let err = max_err(p.as_slice().unwrap(), &floats(&step["params"]), 1e-2);
                    assert!(err <= 1e-10, "{name} step {}: error {err:e}", step["step"]);
                }
            }
            BuiltOptimizer::Lbfgs(mut lbfgs) => {
                let f = objective(case);
                for step in steps {
                    let before = lbfgs.state().func_evals;
                    let mut points = Vec::new();
                    let loss = lbfgs
                        .step_flat(&mut x, |x, g| {
                            points.push(x.to_vec());
                            f(x, g)
                        })
                        .unwrap();
                    let k = &step["step"];
                    assert_eq!(
                        lbfgs.state().func_evals - before,
                        step["func_evals"].as_u64().unwrap(),
                        "{name} {k}"
                    );
                    assert_eq!(
                        lbfgs.state().func_evals,
                        step["func_evals_total"].as_u64().unwrap(),
                        "{name} {k}"
                    );
                    assert_eq!(
                        lbfgs.state().n_iter,
                        step["n_iter_total"].as_u64().unwrap(),
                        "{name} {k}"
                    );
                    let evaluations = step["evaluations"].as_array().unwrap();
                    assert_eq!(points.len(), evaluations.len(), "{name} {k}");
                    for (got, want) in points.iter().zip(evaluations) {
                        assert!(
                            max_err(got, &floats(&want["params"]), 1e-3) <= 1e-9,
                            "{name} {k}"
                        );
                    }
                    assert!(max_err(&[loss], &[float(&step["returned_loss"])], 1e-3) <= 1e-9);
                    assert!(
                        max_err(&x, &floats(&step["params"]), 1e-3) <= 1e-9,
                        "{name} {k}"
                    );
                }
            }
            BuiltOptimizer::Backtracking(_) => panic!("{name}: no such PyTorch optimizer"),
        }
    }
}

fn schedule_config(class: &str, args: &Value) -> ScheduleConfig {
    let mut args: Map<String, Value> = args.as_object().unwrap().clone();
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
            let children: Vec<Value> = args["schedulers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    serde_json::to_value(schedule_config(
                        c["scheduler"].as_str().unwrap(),
                        &c["args"],
                    ))
                    .unwrap()
                })
                .collect();
            args.insert("schedulers".into(), Value::Array(children));
            "sequential"
        }
        other => panic!("unknown scheduler {other}"),
    };
    args.insert("name".into(), name.into());
    serde_json::from_value(Value::Object(args)).expect("the arguments fit our configuration")
}

#[test]
fn schedules_follow_pytorch_and_scikit_learn() {
    let file = load("schedulers.json");
    let num_steps = file["num_steps"].as_u64().unwrap() as usize;
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let config = schedule_config(case["scheduler"].as_str().unwrap(), &case["args"]);
        let mut scheduler = config.build(float(&case["base_lr"])).unwrap();
        let want = floats(&case["lr"]);
        assert_eq!(want.len(), num_steps);
        let metrics = case.get("metrics").map(floats);
        let mut lr = Vec::new();
        let mut momentum = Vec::new();
        for i in 0..num_steps {
            lr.push(scheduler.lr(i as u64));
            momentum.push(scheduler.momentum(i as u64).unwrap_or(f64::NAN));
            if let Scheduler::Plateau(_) = scheduler {
                scheduler.observe(metrics.as_ref().unwrap()[i]);
            }
        }
        let err = max_err(&lr, &want, 1e-6);
        assert!(err <= 1e-12, "{name}: error {err:e}");
        if let Some(want) = case.get("momentum") {
            let err = max_err(&momentum, &floats(want), 1e-6);
            assert!(err <= 1e-12, "{name} momentum: error {err:e}");
        }
    }
    let sklearn = file["sklearn_sgd_learning_rate"].as_array().unwrap();
    assert!(!sklearn.is_empty());
    for entry in sklearn {
        let args = &entry["args"];
        let (config, eta0) = match args["learning_rate"].as_str().unwrap() {
            "invscaling" => (
                ScheduleConfig::InvScaling {
                    power_t: float(&args["power_t"]),
                },
                float(&args["eta0"]),
            ),
            "optimal" => (
                ScheduleConfig::Optimal {
                    alpha: float(&args["alpha"]),
                },
                0.0,
            ),
            other => panic!("unknown rule {other}"),
        };
        let schedule = config.build_pure(eta0).unwrap();
        let got: Vec<f64> = entry["t"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| schedule.lr(t.as_u64().unwrap() - 1))
            .collect();
        let err = max_err(&got, &floats(&entry["eta"]), 1e-6);
        assert!(err <= 1e-12, "{}: error {err:e}", entry["name"]);
    }
}

//! Experiment files: grid and random expansion, stable ids, and the exact message (field
//! and line) of every kind of mistake.

use std::path::Path;

use descent_optim::GdMode;
use descent_runner::experiment::{Experiment, SpecErrors, run_id};

const BASE: &str = r#"
name = "t"
budget = { epochs = 2 }

[[problems]]
name = "iris"
dataset = "iris"
loss = { name = "cross_entropy" }
"#;

fn parse(text: &str) -> Result<Experiment, SpecErrors> {
    Experiment::parse(text, "t.toml", Path::new("."))
}

fn error(text: &str) -> String {
    parse(text).expect_err("the file is invalid").to_string()
}

#[test]
fn grid_crosses_every_axis_in_a_fixed_order() {
    let e = parse(&format!(
        "{BASE}
[axes]
optimizers = [{{ name = \"sgd\" }}, {{ name = \"sgd\", momentum = 0.9 }}, {{ name = \"adam\" }}]
learning_rates = [0.1, 0.01]
batch_modes = [\"batch\", {{ mini_batch = 16 }}]
seeds = [3, 4]
"
    ))
    .unwrap();
    assert_eq!(e.runs.len(), 3 * 2 * 2 * 2);
    for (i, r) in e.runs.iter().enumerate() {
        assert_eq!(r.index, i);
    }
    let first = &e.runs[0];
    assert_eq!(first.label.optimizer, "sgd");
    assert_eq!(first.config.optimizer.lr(), 0.1);
    assert_eq!(first.config.mode, GdMode::Batch);
    assert_eq!(first.config.seed, 3);
    assert_eq!(e.runs[1].config.seed, 4);
    assert_eq!(e.runs[2].config.mode, GdMode::MiniBatch { batch_size: 16 });
    assert_eq!(e.runs[4].config.optimizer.lr(), 0.01);
    assert_eq!(e.runs[8].label.optimizer, "sgd(momentum=0.9)");
    assert_eq!(e.runs[16].label.optimizer, "adam");
    // Seeds share a group; everything else separates groups.
    assert_eq!(e.runs[0].group, e.runs[1].group);
    assert_ne!(e.runs[0].group, e.runs[2].group);
    let ids: std::collections::BTreeSet<_> = e.runs.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), e.runs.len());
}

#[test]
fn an_optimizer_without_learning_rates_keeps_its_own() {
    let e = parse(&format!(
        "{BASE}\n[axes]\noptimizers = [{{ name = \"adam\", lr = 0.005 }}, {{ name = \"sgd\" }}]\n"
    ))
    .unwrap();
    assert_eq!(e.runs.len(), 2);
    assert_eq!(e.runs[0].config.optimizer.lr(), 0.005);
    assert_eq!(e.runs[1].config.optimizer.lr(), 1e-3);
    assert_eq!(e.runs[0].config.mode, GdMode::MiniBatch { batch_size: 32 });
}

const RANDOM: &str = r#"
[axes]
optimizers = [{ name = "sgd" }, { name = "adam" }]
learning_rates = { log_uniform = [1e-4, 1e-1] }
seeds = [0, 1]

[search]
mode = "random"
samples = 20
seed = 7
hyperparameters = { momentum = { uniform = [0.0, 0.99] } }
"#;

#[test]
fn random_search_is_seeded_and_stays_in_its_ranges() {
    let text = format!("{BASE}{RANDOM}");
    let a = parse(&text).unwrap();
    let b = parse(&text).unwrap();
    assert_eq!(a.runs.len(), 40);
    let ids = |e: &Experiment| e.runs.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    let mut names = std::collections::BTreeSet::new();
    for pair in a.runs.chunks(2) {
        // Each draw runs once per seed, with the same configuration.
        assert_eq!(pair[0].group, pair[1].group);
        assert_eq!((pair[0].config.seed, pair[1].config.seed), (0, 1));
        let lr = pair[0].config.optimizer.lr();
        assert!((1e-4..1e-1).contains(&lr), "{lr}");
        let json = serde_json::to_value(&pair[0].config.optimizer).unwrap();
        names.insert(json["name"].as_str().unwrap().to_string());
        if json["name"] == "sgd" {
            let m = json["momentum"].as_f64().unwrap();
            assert!((0.0..0.99).contains(&m) && m > 0.0, "{m}");
        }
    }
    assert_eq!(names.len(), 2, "both optimizers are drawn in 20 samples");
    let other = parse(&text.replace("seed = 7", "seed = 8")).unwrap();
    assert_ne!(ids(&a), ids(&other));
}

#[test]
fn choice_draws_only_the_listed_values() {
    let e = parse(&format!(
        "{BASE}
[axes]
optimizers = [{{ name = \"sgd\" }}]
learning_rates = [0.1, 0.2]
[search]
mode = \"random\"
samples = 12
hyperparameters = {{ nesterov = {{ choice = [false] }}, momentum = {{ choice = [0.5, 0.9] }} }}
"
    ))
    .unwrap();
    // Twelve draws from 2 × 2 combinations: duplicates run once.
    assert!(e.runs.len() <= 4 && e.runs.len() >= 2, "{}", e.runs.len());
    for r in &e.runs {
        let json = serde_json::to_value(&r.config.optimizer).unwrap();
        assert!([0.5, 0.9].contains(&json["momentum"].as_f64().unwrap()));
        assert!([0.1, 0.2].contains(&r.config.optimizer.lr()));
    }
}

#[test]
fn ids_are_stable_across_builds_and_platforms() {
    // The id is the SHA-256 of the configuration's JSON: these values are pinned, so a
    // change of hash, field order or number formatting shows here.
    let e = parse(&format!(
        "{BASE}\n[axes]\noptimizers = [{{ name = \"sgd\" }}]\nlearning_rates = [0.1]\nseeds = [0, 1]\n"
    ))
    .unwrap();
    let json = serde_json::to_string(&e.runs[0].config).unwrap();
    assert!(json.starts_with(r#"{"problem":{"name":"iris","dataset":"iris","scale":"none","model":{"hidden":[],"activation":"relu","init":"pytorch_default","bias":true},"loss":{"name":"cross_entropy""#), "{json}");
    assert_eq!(run_id(&e.runs[0].config), e.runs[0].id);
    assert_eq!(e.runs[0].id.len(), 16);
    assert_eq!(e.runs[0].id, PINNED_ID_0);
    assert_eq!(e.runs[1].id, PINNED_ID_1);
    // Whitespace, comments and key order in the file do not change the id.
    let reordered = parse(
        "# same runs\nbudget = { epochs = 2 }\nname = \"other name\"\n[axes]\nseeds = [0, 1]\nlearning_rates = [0.1]\noptimizers = [{ name = \"sgd\", momentum = 0.0 }]\n[[problems]]\nloss = { name = \"cross_entropy\" }\ndataset = \"iris\"\nname = \"iris\"\n",
    )
    .unwrap();
    assert_eq!(reordered.runs[0].id, PINNED_ID_0);
}

const PINNED_ID_0: &str = "87d99009430d5861";
const PINNED_ID_1: &str = "908e9d9b76500af3";

#[test]
fn the_shipped_experiments_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let w4 = Experiment::load(&dir.join("w4-sweep.toml")).unwrap();
    assert_eq!(w4.runs.len(), 32);
    let modes = Experiment::load(&dir.join("gd-modes-diabetes.toml")).unwrap();
    assert_eq!(modes.runs.len(), 4 * 3 * 3);
    let schedules = Experiment::load(&dir.join("schedules-digits.toml")).unwrap();
    assert_eq!(schedules.runs.len(), 2 * 5 * 3);
}

// ---- Exact messages: the field and the line of every mistake. ----

#[test]
fn unknown_optimizer_names_the_valid_ones() {
    let text = format!(
        "{BASE}\n[axes]\noptimizers = [\n  {{ name = \"sgd\" }},\n  {{ name = \"adamm\" }},\n]\n"
    );
    assert_eq!(
        error(&text),
        "t.toml:13:12: `axes.optimizers[1].name`: unknown variant `adamm`, expected one of `sgd`, `adagrad`, `rmsprop`, `adam`, `adamw`, `adamax`, `nadam`, `radam`, `adadelta`, `lbfgs`, `backtracking`"
    );
}

#[test]
fn unknown_field_names_the_valid_ones() {
    let text = format!("{BASE}\n[axes]\noptimizers = [{{ name = \"sgd\", momentom = 0.9 }}]\n");
    assert_eq!(
        error(&text),
        "t.toml:11:31: `axes.optimizers[0].momentom`: unknown field `momentom`, expected one of `lr`, `momentum`, `dampening`, `weight_decay`, `nesterov`, `maximize`"
    );
    let text =
        format!("{BASE}\n[axes]\noptimizers = [{{ name = \"sgd\" }}]\nlearning_rate = [0.1]\n");
    assert_eq!(
        error(&text),
        "t.toml:12:1: `axes.learning_rate`: unknown field `learning_rate`, expected one of `optimizers`, `learning_rates`, `schedules`, `batch_modes`, `seeds`"
    );
}

#[test]
fn unknown_data_set_lists_the_shipped_ones() {
    let text = BASE.replace("dataset = \"iris\"", "dataset = \"irises\"")
        + "\n[axes]\noptimizers = [{ name = \"sgd\" }]\n";
    assert_eq!(
        error(&text),
        "t.toml:7:1: `problems[0].dataset`: unknown data set `irises`; shipped data sets: iris, wine, breast_cancer, diabetes, digits"
    );
}

#[test]
fn wrong_types_and_ranges_name_field_and_line() {
    let text = format!(
        "{BASE}\n[axes]\noptimizers = [{{ name = \"sgd\" }}]\nlearning_rates = [0.1, \"fast\"]\n"
    );
    assert_eq!(
        error(&text),
        "t.toml:12:18: `axes.learning_rates`: a learning rate must be a number, found string"
    );
    let text = format!(
        "{BASE}\n[axes]\noptimizers = [{{ name = \"sgd\" }}]\nlearning_rates = [0.1, -1.0]\n"
    );
    assert_eq!(
        error(&text),
        "t.toml:12:24: `axes.learning_rates[1]`: a learning rate must be a finite number > 0, found -1"
    );
    let text =
        format!("{BASE}\n[axes]\noptimizers = [{{ name = \"adam\", betas = [0.9, 1.5] }}]\n");
    assert_eq!(
        error(&text),
        "t.toml:11:15: `axes.optimizers[0]`: adam: invalid betas[1] = 1.5: must be in [0, 1)"
    );
    let text = format!(
        "{BASE}\n[axes]\noptimizers = [{{ name = \"sgd\" }}]\nbatch_modes = [{{ mini_batch = 0 }}]\n"
    );
    assert_eq!(
        error(&text),
        "t.toml:12:15: `axes.batch_modes`: mini_batch needs a batch size of at least 1"
    );
}

#[test]
fn budget_mistakes() {
    let text = BASE.replace(
        "budget = { epochs = 2 }",
        "budget = { epochs = 2, steps = 10 }",
    ) + "\n[axes]\noptimizers = [{ name = \"sgd\" }]\n";
    assert_eq!(
        error(&text),
        "t.toml:3:1: `budget`: give only one of `epochs`, `steps` or `gradient_evaluations`, found `epochs` and `steps`"
    );
    let text = BASE.replace("budget = { epochs = 2 }", "budget = { epoch = 2 }")
        + "\n[axes]\noptimizers = [{ name = \"sgd\" }]\n";
    assert_eq!(
        error(&text),
        "t.toml:3:12: `budget.epoch`: unknown field `epoch`, expected one of `epochs`, `steps`, `gradient_evaluations`"
    );
}

#[test]
fn search_mistakes() {
    let text = format!(
        "{BASE}\n[axes]\noptimizers = [{{ name = \"sgd\" }}]\nlearning_rates = {{ log_uniform = [0.0, 0.1] }}\n"
    );
    assert_eq!(
        error(&text),
        "t.toml:12:1: `axes.learning_rates`: a distribution needs random search: add `[search]` with `mode = \"random\"` and `samples`, or list the rates\nt.toml:12:20: `axes.learning_rates.log_uniform`: needs bounds with 0 < low < high, found [0, 0.1]"
    );
    let text = format!(
        "{BASE}\n[axes]\noptimizers = [{{ name = \"adam\" }}]\n[search]\nmode = \"random\"\nsamples = 3\nhyperparameters = {{ momentum = {{ uniform = [0.0, 0.9] }} }}\n"
    );
    assert_eq!(
        error(&text),
        "t.toml:15:21: `search.hyperparameters.momentum`: no optimizer of `axes.optimizers` has a hyperparameter `momentum`; theirs: amsgrad, betas, decoupled_weight_decay, eps, maximize, weight_decay"
    );
}

#[test]
fn syntax_errors_and_missing_sections() {
    assert_eq!(
        error("name = \"t\"\nbudget = { epochs = 2 \n"),
        "t.toml:2:22: unclosed inline table, expected `}`"
    );
    assert_eq!(error(BASE), "t.toml:1:1: missing field `axes`");
    let text = "name = \"t\"\nbudget = { epochs = 2 }\n[axes]\noptimizers = [{ name = \"sgd\" }]\n[[problems]]\nname = \"x\"\nloss = { name = \"mse\" }\n";
    assert_eq!(
        error(text),
        "t.toml:5:1: `problems[0]`: needs `dataset` (a shipped data set) or `csv` (a file)"
    );
}

#[test]
fn several_mistakes_are_all_reported() {
    let text = BASE.replace("dataset = \"iris\"", "dataset = \"irises\"")
        + "\n[axes]\noptimizers = [{ name = \"lbfgs\" }]\nlearning_rates = [0.0]\nseeds = []\n";
    let errors = parse(&text).unwrap_err();
    assert_eq!(errors.0.len(), 4, "{errors}");
    assert_eq!(
        error(&text),
        "t.toml:7:1: `problems[0].dataset`: unknown data set `irises`; shipped data sets: iris, wine, breast_cancer, diabetes, digits\nt.toml:11:17: `axes.optimizers[0].name`: `lbfgs` evaluates the objective itself and cannot run in a sweep; sweep optimizers: sgd, adagrad, rmsprop, adam, adamw, adamax, nadam, radam, adadelta\nt.toml:12:19: `axes.learning_rates[0]`: a learning rate must be a finite number > 0, found 0\nt.toml:13:1: `axes.seeds`: needs at least one value"
    );
}

#[test]
fn data_that_do_not_fit_the_loss_are_found_when_loading() {
    let text = BASE.replace("dataset = \"iris\"", "dataset = \"diabetes\"")
        + "\n[axes]\noptimizers = [{ name = \"sgd\" }]\n";
    let e = parse(&text).unwrap();
    let errors = descent_runner::sweep::prepare::<f32>(&e).unwrap_err();
    assert_eq!(
        SpecErrors(errors).to_string(),
        "t.toml:8:1: `problems[0].loss`: loss `cross_entropy` takes class targets, but the data set's targets are real values"
    );
}

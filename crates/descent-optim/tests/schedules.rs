//! Schedule configurations: every kind builds from TOML with PyTorch's argument names,
//! edge cases at step 0, the last step and restarts, and exact error messages.

use descent_optim::ScheduleConfig;
use descent_optim::schedule::Scheduler;

fn build(toml_text: &str, base_lr: f64) -> Scheduler {
    let config: ScheduleConfig =
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text}: {e}"));
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(
        serde_json::from_str::<ScheduleConfig>(&json).unwrap(),
        config,
        "{json}"
    );
    config.build(base_lr).unwrap()
}

#[test]
fn every_kind_builds_from_toml_with_its_edge_cases() {
    let s = build("name = \"constant\"", 0.1);
    assert_eq!((s.lr(0), s.lr(1_000_000)), (0.1, 0.1));
    let s = build(
        "name = \"constant_factor\"\nfactor = 0.5\ntotal_iters = 3",
        0.2,
    );
    assert_eq!((s.lr(0), s.lr(2), s.lr(3)), (0.1, 0.1, 0.2));
    let s = build("name = \"step\"\nstep_size = 2\ngamma = 0.5", 1.0);
    assert_eq!((s.lr(0), s.lr(1), s.lr(2), s.lr(4)), (1.0, 1.0, 0.5, 0.25));
    let s = build(
        "name = \"multi_step\"\nmilestones = [1, 1, 3]\ngamma = 0.5",
        1.0,
    );
    assert_eq!((s.lr(0), s.lr(1), s.lr(3)), (1.0, 0.25, 0.125));
    let s = build("name = \"exponential\"\ngamma = 0.5", 1.0);
    assert_eq!(s.lr(3), 0.125);
    let s = build("name = \"inv_scaling\"\npower_t = 1.0", 1.0);
    assert_eq!((s.lr(0), s.lr(3)), (1.0, 0.25));
    let s = build("name = \"optimal\"\nalpha = 1e-4", 123.0);
    assert_eq!(s.lr(0), 10.0, "optimal ignores the base rate");
    let s = build("name = \"polynomial\"\ntotal_iters = 4\npower = 1.0", 1.0);
    assert_eq!((s.lr(0), s.lr(2), s.lr(4), s.lr(10)), (1.0, 0.5, 0.0, 0.0));
    let s = build(
        "name = \"linear\"\nstart_factor = 0.5\ntotal_iters = 2",
        1.0,
    );
    assert_eq!((s.lr(0), s.lr(1), s.lr(2), s.lr(9)), (0.5, 0.75, 1.0, 1.0));
    let s = build("name = \"cosine\"\nT_max = 2", 1.0);
    assert_eq!((s.lr(0), s.lr(1), s.lr(2)), (1.0, 0.5, 0.0));
    assert!((s.lr(4) - 1.0).abs() < 1e-15, "back up after 2·T_max");
    let s = build("name = \"cosine_warm_restarts\"\nT_0 = 2\nT_mult = 2", 1.0);
    assert_eq!(
        (s.lr(0), s.lr(2), s.lr(6)),
        (1.0, 1.0, 1.0),
        "restarts at 2 and 2 + 4"
    );
    assert_eq!(s.lr(4), 0.5);
    let s = build(
        "name = \"one_cycle\"\nmax_lr = 1.0\ntotal_steps = 10\nanneal_strategy = \"linear\"",
        9.0,
    );
    assert_eq!((s.lr(0), s.momentum(0)), (0.04, Some(0.95)));
    assert!((s.lr(2) - 1.0).abs() < 1e-15);
    assert!((s.lr(9) - 4e-6).abs() < 1e-15);
    let s = build(
        "name = \"one_cycle\"\nmax_lr = 1.0\ntotal_steps = 10\ncycle_momentum = false",
        9.0,
    );
    assert_eq!(s.momentum(3), None);
    let s = build(
        "name = \"cyclic\"\nbase_lr = 0.0\nmax_lr = 1.0\nstep_size_up = 2\nmode = \"triangular2\"",
        9.0,
    );
    assert_eq!((s.lr(0), s.lr(2), s.lr(4), s.lr(6)), (0.0, 1.0, 0.0, 0.5));
    let s = build(
        r#"
        name = "sequential"
        milestones = [2]
        schedulers = [
            { name = "linear", start_factor = 0.5, total_iters = 2 },
            { name = "cosine", T_max = 2 },
        ]
        "#,
        1.0,
    );
    assert_eq!((s.lr(0), s.lr(1), s.lr(2), s.lr(3)), (0.5, 0.75, 1.0, 0.5));
    let mut s = build(
        "name = \"reduce_on_plateau\"\npatience = 0\nfactor = 0.5",
        1.0,
    );
    s.observe(1.0);
    assert_eq!(s.lr(0), 1.0);
    s.observe(2.0);
    assert_eq!(s.lr(12345), 0.5, "plateau ignores the step");
}

#[test]
fn bad_values_are_errors() {
    let config: ScheduleConfig = toml::from_str("name = \"step\"\nstep_size = 0").unwrap();
    assert_eq!(
        config.build(0.1).unwrap_err().to_string(),
        "step: invalid step_size = 0: must be at least 1"
    );
    let config: ScheduleConfig =
        toml::from_str("name = \"sequential\"\nmilestones = []\nschedulers = [{ name = \"constant\" }, { name = \"constant\" }]")
            .unwrap();
    assert!(config.build(0.1).is_err());
    let config: ScheduleConfig = toml::from_str("name = \"reduce_on_plateau\"").unwrap();
    assert!(
        config.build_pure(0.1).is_err(),
        "plateau is not a pure schedule"
    );
    assert!(config.build(0.1).is_ok());
}

#[test]
fn unknown_names_and_fields_list_the_valid_ones() {
    let err =
        serde_json::from_str::<ScheduleConfig>(r#"{"name": "cosine_annealing"}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown variant `cosine_annealing`, expected one of `constant`, `constant_factor`, `step`, \
         `multi_step`, `exponential`, `inv_scaling`, `optimal`, `polynomial`, `linear`, `cosine`, \
         `cosine_warm_restarts`, `one_cycle`, `cyclic`, `sequential`, `reduce_on_plateau` at line 1 column 27"
    );
    let err = toml::from_str::<ScheduleConfig>("name = \"cosine\"\nT_max = 10\neta_max = 0.1\n")
        .unwrap_err();
    assert_eq!(
        err.message(),
        "unknown field `eta_max`, expected one of `T_max`, `t_max`, `eta_min`"
    );
    let err = toml::from_str::<ScheduleConfig>("name = \"step\"\ngamma = 0.5\n").unwrap_err();
    assert_eq!(err.message(), "missing field `step_size`");
}

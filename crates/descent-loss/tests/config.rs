//! `LossConfig` as experiment files write it: TOML and JSON, defaults, round trips,
//! and the exact messages for an unknown name or field.

use descent_loss::{
    Bce, BceWithLogits, CrossEntropy, Huber, KlDiv, KlReduction, L1, LossConfig, Mse, MultiMargin,
    Nll, PoissonNll, Reduction, SmoothL1,
};

const VALID_NAMES: &str = "`mse`, `l1`, `huber`, `smooth_l1`, `bce`, `bce_with_logits`, \
                           `cross_entropy`, `nll`, `kl_div`, `multi_margin`, `poisson_nll`";

fn toml_error(text: &str) -> String {
    toml::from_str::<LossConfig>(text)
        .unwrap_err()
        .message()
        .to_string()
}

fn json_error(text: &str) -> String {
    serde_json::from_str::<LossConfig>(text)
        .unwrap_err()
        .to_string()
}

#[test]
fn every_loss_is_named_in_toml_with_pytorch_defaults() {
    let cases = [
        (
            r#"name = "mse""#,
            LossConfig::Mse(Mse::new(Reduction::Mean)),
        ),
        (r#"name = "l1""#, LossConfig::L1(L1::new(Reduction::Mean))),
        (
            r#"name = "huber""#,
            LossConfig::Huber(Huber {
                delta: 1.0,
                reduction: Reduction::Mean,
            }),
        ),
        (
            r#"name = "smooth_l1""#,
            LossConfig::SmoothL1(SmoothL1 {
                beta: 1.0,
                reduction: Reduction::Mean,
            }),
        ),
        (
            r#"name = "bce""#,
            LossConfig::Bce(Bce::new(Reduction::Mean)),
        ),
        (
            r#"name = "bce_with_logits""#,
            LossConfig::BceWithLogits(BceWithLogits {
                pos_weight: None,
                reduction: Reduction::Mean,
            }),
        ),
        (
            r#"name = "cross_entropy""#,
            LossConfig::CrossEntropy(CrossEntropy {
                label_smoothing: 0.0,
                reduction: Reduction::Mean,
            }),
        ),
        (
            r#"name = "nll""#,
            LossConfig::Nll(Nll::new(Reduction::Mean)),
        ),
        (
            r#"name = "kl_div""#,
            LossConfig::KlDiv(KlDiv {
                log_target: false,
                reduction: KlReduction::BatchMean,
            }),
        ),
        (
            r#"name = "multi_margin""#,
            LossConfig::MultiMargin(MultiMargin {
                p: 1,
                margin: 1.0,
                reduction: Reduction::Mean,
            }),
        ),
        (
            r#"name = "poisson_nll""#,
            LossConfig::PoissonNll(PoissonNll {
                log_input: true,
                full: false,
                eps: 1e-8,
                reduction: Reduction::Mean,
            }),
        ),
    ];
    assert_eq!(cases.len(), LossConfig::NAMES.len());
    for ((text, want), name) in cases.into_iter().zip(LossConfig::NAMES) {
        let got: LossConfig = toml::from_str(text).unwrap();
        assert_eq!(got, want, "{text}");
        assert_eq!(got.name(), *name);
    }
}

#[test]
fn hyperparameters_and_reductions_are_read() {
    let text = r#"
        name = "bce_with_logits"
        pos_weight = [1.5, 0.5]
        reduction = "sum"
    "#;
    let want = LossConfig::BceWithLogits(BceWithLogits::with_pos_weight(
        vec![1.5, 0.5],
        Reduction::Sum,
    ));
    assert_eq!(toml::from_str::<LossConfig>(text).unwrap(), want);
    let json = r#"{"name": "kl_div", "reduction": "mean", "log_target": true}"#;
    let want = LossConfig::KlDiv(KlDiv {
        log_target: true,
        reduction: KlReduction::Mean,
    });
    assert_eq!(serde_json::from_str::<LossConfig>(json).unwrap(), want);
    // An inline table inside an experiment file.
    #[derive(serde::Deserialize)]
    struct Experiment {
        loss: LossConfig,
    }
    let experiment: Experiment =
        toml::from_str(r#"loss = { name = "huber", delta = 0.25 }"#).unwrap();
    assert_eq!(
        experiment.loss,
        LossConfig::Huber(Huber {
            delta: 0.25,
            reduction: Reduction::Mean
        })
    );
}

#[test]
fn every_config_round_trips_through_toml_and_json() {
    let configs: Vec<LossConfig> = vec![
        Mse::new(Reduction::None).into(),
        L1::new(Reduction::Sum).into(),
        Huber {
            delta: 0.5,
            reduction: Reduction::Sum,
        }
        .into(),
        SmoothL1 {
            beta: 0.7,
            reduction: Reduction::None,
        }
        .into(),
        Bce::new(Reduction::Sum).into(),
        BceWithLogits::with_pos_weight(vec![1.2, 0.8], Reduction::Mean).into(),
        CrossEntropy {
            label_smoothing: 0.1,
            reduction: Reduction::Sum,
        }
        .into(),
        Nll::new(Reduction::None).into(),
        KlDiv {
            log_target: true,
            reduction: KlReduction::Sum,
        }
        .into(),
        MultiMargin {
            p: 2,
            margin: 0.5,
            reduction: Reduction::Mean,
        }
        .into(),
        PoissonNll {
            log_input: false,
            full: true,
            eps: 1e-6,
            reduction: Reduction::Sum,
        }
        .into(),
    ];
    for config in configs {
        let text = toml::to_string(&config).unwrap();
        assert!(
            text.starts_with(&format!("name = \"{}\"", config.name())),
            "{text}"
        );
        assert_eq!(
            toml::from_str::<LossConfig>(&text).unwrap(),
            config,
            "{text}"
        );
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(
            serde_json::from_str::<LossConfig>(&json).unwrap(),
            config,
            "{json}"
        );
    }
}

#[test]
fn an_unknown_name_lists_the_valid_ones() {
    assert_eq!(
        toml_error(r#"name = "hubber""#),
        format!("unknown variant `hubber`, expected one of {VALID_NAMES}")
    );
    assert_eq!(
        json_error(r#"{"name": "mse_loss"}"#),
        format!("unknown variant `mse_loss`, expected one of {VALID_NAMES} at line 1 column 19")
    );
    assert_eq!(toml_error(r#"delta = 1.0"#), "missing field `name`");
}

#[test]
fn an_unknown_field_lists_the_valid_ones() {
    assert_eq!(
        toml_error(
            r#"name = "huber"
beta = 1.0"#
        ),
        "unknown field `beta`, expected `delta` or `reduction`"
    );
    assert_eq!(
        json_error(r#"{"name": "cross_entropy", "smoothing": 0.1}"#),
        "unknown field `smoothing`, expected `label_smoothing` or `reduction`"
    );
    assert_eq!(
        json_error(r#"{"name": "poisson_nll", "log": true}"#),
        "unknown field `log`, expected one of `log_input`, `full`, `eps`, `reduction`"
    );
    assert_eq!(
        toml_error(
            r#"name = "mse"
reduction = "avg""#
        ),
        "unknown variant `avg`, expected one of `mean`, `sum`, `none`"
    );
    assert_eq!(
        toml_error(
            r#"name = "kl_div"
reduction = "batch_mean""#
        ),
        "unknown variant `batch_mean`, expected one of `batchmean`, `mean`, `sum`, `none`"
    );
}

#[test]
fn validate_rejects_hyperparameters_out_of_range() {
    let config: LossConfig = toml::from_str(
        r#"name = "cross_entropy"
label_smoothing = 1.5"#,
    )
    .unwrap();
    assert_eq!(
        config.validate().unwrap_err().to_string(),
        "cross_entropy: label_smoothing = 1.5 is invalid: it must be in [0, 1]"
    );
    let config = LossConfig::MultiMargin(MultiMargin {
        p: 3,
        ..MultiMargin::default()
    });
    assert_eq!(
        config.validate().unwrap_err().to_string(),
        "multi_margin: p = 3 is invalid: it must be 1 or 2"
    );
    assert!(LossConfig::default().validate().is_ok());
    assert!(config.takes_classes() && !LossConfig::default().takes_classes());
}

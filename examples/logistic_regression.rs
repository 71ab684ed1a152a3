//! Logistic regression on the breast-cancer data set, judged on rows it never saw.
//!
//! What it shows:
//! - the shipped `breast_cancer` data set (569 tumours, 30 measurements, benign or
//!   malignant), split into a training and a held-out test set, stratified so that
//!   both keep the data set's share of each class;
//! - features standardised with a scaler fitted on the training rows only (fitting it
//!   on all rows would leak the test rows' means into training);
//! - logistic regression as a one-layer model with one output, the logit
//!   `z = x·w + b`, trained with binary cross-entropy *with logits*: the loss takes
//!   `z` itself and computes `log(1 + e^{-z})` stably, instead of taking a sigmoid
//!   that rounds to exactly 0 or 1 and then its logarithm;
//! - mini-batch SGD with momentum through the runner's fit loop, then the accuracy,
//!   log-loss and confusion matrix on the held-out rows, and the measurements that
//!   weigh most in the decision.
//!
//! Run it with `cargo run --release --example logistic_regression`.

use descent::data::{Shipped, StandardScaler, train_test_split};
use descent::loss::{BceWithLogits, LossConfig, Reduction};
use descent::nn::{Init, Mlp, Model};
use descent::optim::{GdMode, Sgd, SgdConfig};
use descent::runner::fit::{FitConfig, Trainer, evaluate};
use descent::runner::metrics::{Metrics, confusion_table};
use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let data = Shipped::BreastCancer.load::<f64>()?;
    let names = data
        .class_names()
        .ok_or("breast_cancer has class targets")?
        .to_vec();
    let (mut train, mut test) = train_test_split(&data, 0.25, 3, true)?;
    let scaler = StandardScaler::fit(train.features())?;
    scaler.transform(train.features_mut())?;
    scaler.transform(test.features_mut())?;
    println!(
        "breast_cancer: {} rows, {} features; {} to train on, {} held out (stratified)",
        data.rows(),
        data.n_features(),
        train.rows(),
        test.rows()
    );
    println!(
        "class 0 = {}, class 1 = {} (the model's output is the logit of class 1)\n",
        names[0], names[1]
    );

    let loss = LossConfig::BceWithLogits(BceWithLogits::new(Reduction::Mean));
    let mut model = Mlp::<f64>::linear(data.n_features(), 1, Init::Zeros, 0)?;
    let config = FitConfig {
        mode: GdMode::MiniBatch { batch_size: 32 },
        epochs: 40,
        shuffle: Some(11),
        ..FitConfig::default()
    };
    let sgd = SgdConfig {
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let report = Trainer::new(&mut model, loss.clone(), Box::new(Sgd::new(sgd)))
        .lr(0.01)
        .config(config)
        .fit(&train, None)?;
    println!(
        "trained {} steps: training loss {:.4}, {}",
        report.steps,
        report.train.loss,
        report.train.metrics.summary()
    );

    let held_out = evaluate(&model, &loss, &test)?;
    let Metrics::Classification(c) = &held_out.metrics else {
        return Err("classification metrics expected".into());
    };
    println!(
        "held out: accuracy {:.2} % ({} of {} rows), log-loss {:.4}\n",
        100.0 * c.accuracy,
        c.confusion
            .iter()
            .enumerate()
            .map(|(i, r)| r[i])
            .sum::<usize>(),
        test.rows(),
        c.log_loss
    );
    print!("{}", confusion_table(&c.confusion, &names));
    let (tp, fn_, fp) = (c.confusion[1][1], c.confusion[1][0], c.confusion[0][1]);
    println!(
        "\n{}: recall {:.3} ({tp} of {} found), precision {:.3}",
        names[1],
        tp as f64 / (tp + fn_).max(1) as f64,
        tp + fn_,
        tp as f64 / (tp + fp).max(1) as f64
    );

    // The weights of standardised features are comparable: the change in log-odds per
    // standard deviation of the measurement.
    let weights = model.params().value(0);
    let mut ranked: Vec<(f64, &String)> =
        weights.iter().copied().zip(data.feature_names()).collect();
    ranked.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
    println!(
        "\nlargest weights (log-odds of {} per standard deviation):",
        names[1]
    );
    for (w, name) in ranked.iter().take(6) {
        println!("  {name:<24} {w:>+8.3}");
    }
    if c.accuracy < 0.93 {
        return Err(format!("held-out accuracy {:.3} is below 0.93", c.accuracy).into());
    }
    Ok(())
}

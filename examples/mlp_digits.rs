//! A multilayer perceptron that reads handwritten digits, trained with Adam.
//!
//! What it shows:
//! - the shipped `digits` data set (1,797 images of 8×8 pixels, 10 classes), a
//!   stratified held-out test set, and a validation set carved from the training rows;
//! - pixels standardised with a scaler fitted on the training rows only (the always-
//!   blank border pixels are constant and stay at 0);
//! - an MLP 64 → 64 → ReLU → 10 with PyTorch's default initialisation, softmax
//!   cross-entropy on the ten outputs (the logits), Adam with learning rate 1e-3,
//!   mini-batches of 32, and early stopping on the validation loss that puts back the
//!   best epoch's weights;
//! - the held-out accuracy (at least 95 %; `tests/mlp_digits.rs` checks it) and the
//!   confusion matrix: which digits are taken for which.
//!
//! Run it with `cargo run --release --example mlp_digits`.

use descent::data::{Shipped, StandardScaler, train_validation_test_split};
use descent::loss::{CrossEntropy, LossConfig, Reduction};
use descent::nn::{Activation, Init, Mlp};
use descent::optim::{Adam, AdamConfig, GdMode};
use descent::runner::fit::{EarlyStopping, FitConfig, FitReport, Trainer, evaluate};
use descent::runner::metrics::{Classification, Metrics};
use std::error::Error;

/// What a training run of this example ends with.
pub struct Outcome {
    /// The fit loop's report (history, termination).
    pub report: FitReport,
    /// The metrics on the held-out test rows.
    pub test: Classification,
    /// The class names.
    pub names: Vec<String>,
    /// Rows trained on, validated on and held out.
    pub rows: [usize; 3],
}

/// Trains the MLP and evaluates it on the held-out rows; `progress` shows a bar and
/// prints every few epochs.
pub fn train(progress: bool) -> Result<Outcome, Box<dyn Error>> {
    let data = Shipped::Digits.load::<f32>()?;
    let names = data.class_names().ok_or("digits has classes")?.to_vec();
    let mut split = train_validation_test_split(&data, 0.15, 0.2, 5, true)?;
    let scaler = StandardScaler::fit(split.train.features())?;
    for part in [&mut split.train, &mut split.validation, &mut split.test] {
        scaler.transform(part.features_mut())?;
    }

    let loss = LossConfig::CrossEntropy(CrossEntropy::new(Reduction::Mean));
    let mut model = Mlp::<f32>::new(&[64, 64, 10], Activation::Relu, Init::PytorchDefault, 1)?;
    let config = FitConfig {
        mode: GdMode::MiniBatch { batch_size: 32 },
        epochs: 60,
        shuffle: Some(3),
        early_stopping: Some(EarlyStopping {
            patience: 8,
            min_delta: 0.0,
            restore_best: true,
        }),
        record_steps: false,
        ..FitConfig::default()
    };
    let mut trainer = Trainer::new(
        &mut model,
        loss.clone(),
        Box::new(Adam::new(AdamConfig::default())),
    )
    .lr(1e-3)
    .config(config);
    if progress {
        trainer = trainer.observe(descent::runner::fit::OnEpoch(
            |e: &descent::runner::fit::EpochRecord| {
                if e.epoch.is_multiple_of(5) {
                    let acc = match &e.val_metrics {
                        Some(Metrics::Classification(c)) => c.accuracy,
                        _ => f64::NAN,
                    };
                    println!(
                        "  epoch {:>3}  train loss {:.4}  validation loss {:.4}  validation accuracy {:.2} %",
                        e.epoch + 1,
                        e.train_loss,
                        e.val_loss.unwrap_or(f64::NAN),
                        100.0 * acc
                    );
                }
            },
        ));
    } else {
        trainer = trainer.quiet();
    }
    let report = trainer.fit(&split.train, Some(&split.validation))?;
    let Metrics::Classification(test) = evaluate(&model, &loss, &split.test)?.metrics else {
        return Err("classification metrics expected".into());
    };
    Ok(Outcome {
        report,
        test,
        names,
        rows: [
            split.train.rows(),
            split.validation.rows(),
            split.test.rows(),
        ],
    })
}

#[allow(dead_code)] // `tests/mlp_digits.rs` includes this file for `train` alone.
fn main() -> Result<(), Box<dyn Error>> {
    println!("digits: MLP 64 → 64 → ReLU → 10, Adam lr 1e-3, batches of 32\n");
    let outcome = train(true)?;
    let [train_rows, val_rows, test_rows] = outcome.rows;
    println!(
        "\n{train_rows} rows trained on, {val_rows} validated on, {test_rows} held out; {:?}",
        outcome.report.termination
    );
    println!(
        "held-out accuracy: {:.2} %  (log-loss {:.4})\n",
        100.0 * outcome.test.accuracy,
        outcome.test.log_loss
    );
    print!(
        "{}",
        descent::runner::metrics::confusion_table(&outcome.test.confusion, &outcome.names)
    );
    let mut mistakes: Vec<(usize, usize, usize)> = Vec::new();
    for (truth, row) in outcome.test.confusion.iter().enumerate() {
        for (predicted, &count) in row.iter().enumerate() {
            if truth != predicted && count > 0 {
                mistakes.push((count, truth, predicted));
            }
        }
    }
    mistakes.sort_by(|a, b| b.cmp(a));
    if let Some(&(count, truth, predicted)) = mistakes.first() {
        println!(
            "\nmost frequent mistake: a {} read as a {} ({count} times)",
            outcome.names[truth], outcome.names[predicted]
        );
    }
    if outcome.test.accuracy < 0.95 {
        return Err(format!(
            "held-out accuracy {:.4} is below 95 %",
            outcome.test.accuracy
        )
        .into());
    }
    Ok(())
}

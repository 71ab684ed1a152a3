//! The fit loop against what the textbook says: every mode of gradient descent reaches
//! the least-squares solution, checkpoints resume bit for bit, early stopping gives
//! back the best weights, and a diverging run is reported.

use descent_data::synthetic;
use descent_data::{Dataset, Targets};
use descent_loss::{CrossEntropy, LossConfig, Mse};
use descent_nn::{Activation, Init, Mlp, Model};
use descent_optim::schedule::{InverseScaling, Scheduler};
use descent_optim::{Adam, AdamConfig, GdMode, Sgd, SgdConfig, StoppingRules};
use descent_runner::FitError;
use descent_runner::fit::{CheckpointConfig, EarlyStopping, FitConfig, Termination, Trainer};
use ndarray::{Array1, Array2, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Least squares with an intercept by the normal equations (Gaussian elimination).
fn least_squares(x: &Array2<f64>, y: &Array1<f64>) -> Vec<f64> {
    let (n, d) = x.dim();
    let mut a = Array2::<f64>::ones((n, d + 1));
    a.slice_mut(s![.., ..d]).assign(x);
    let mut m = a.t().dot(&a);
    let mut r = a.t().dot(y);
    let k = d + 1;
    for c in 0..k {
        for row in c + 1..k {
            let f = m[[row, c]] / m[[c, c]];
            for j in c..k {
                m[[row, j]] -= f * m[[c, j]];
            }
            r[row] -= f * r[c];
        }
    }
    let mut beta = vec![0.0; k];
    for i in (0..k).rev() {
        let dot: f64 = (i + 1..k).map(|j| m[[i, j]] * beta[j]).sum();
        beta[i] = (r[i] - dot) / m[[i, i]];
    }
    beta
}

fn linear_problem() -> Dataset<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    synthetic::linear::<f64>(200, 3, 0.5, &mut rng)
        .unwrap()
        .data
}

fn mse() -> LossConfig {
    LossConfig::Mse(Mse::default())
}

fn sgd() -> Box<Sgd<f64>> {
    Box::new(Sgd::new(SgdConfig::default()))
}

#[test]
fn every_mode_of_gradient_descent_converges_to_least_squares() {
    let data = linear_problem();
    let y = match data.targets() {
        Targets::Real(y) => y.clone(),
        _ => unreachable!(),
    };
    let exact = least_squares(&data.features().to_owned(), &y);
    let cases = [
        // (mode, epochs, schedule)
        (
            GdMode::Batch,
            400,
            Scheduler::Pure(Box::new(InverseScaling::new(0.3, 0.0))),
        ),
        (
            GdMode::MiniBatch { batch_size: 16 },
            300,
            Scheduler::Pure(Box::new(InverseScaling::new(0.05, 0.5))),
        ),
        (
            GdMode::Stochastic,
            200,
            Scheduler::Pure(Box::new(InverseScaling::new(0.02, 0.5))),
        ),
    ];
    for (mode, epochs, schedule) in cases {
        let mut model = Mlp::<f64>::linear(3, 1, Init::Zeros, 0).unwrap();
        let config = FitConfig {
            mode,
            epochs,
            record_steps: false,
            ..FitConfig::default()
        };
        let report = Trainer::new(&mut model, mse(), sgd())
            .schedule(schedule)
            .config(config)
            .quiet()
            .fit(&data, None)
            .unwrap();
        let w = model.params().value(0);
        let b = model.params().value(1)[0];
        for i in 0..3 {
            assert!(
                (w[[i, 0]] - exact[i]).abs() < 2e-3,
                "{mode}: w{i} {} vs {}",
                w[[i, 0]],
                exact[i]
            );
        }
        assert!(
            (b - exact[3]).abs() < 2e-3,
            "{mode}: bias {b} vs {}",
            exact[3]
        );
        assert!(matches!(report.termination, Termination::Completed { .. }));
    }
}

fn classes() -> (Dataset<f64>, Dataset<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let data = synthetic::blobs::<f64>(240, 4, 3, 3.0, &mut rng).unwrap();
    let train = data.select(&(0..160).collect::<Vec<_>>());
    let test = data.select(&(160..240).collect::<Vec<_>>());
    (train, test)
}

#[test]
fn a_resumed_run_ends_with_the_same_bits() {
    let (train, _) = classes();
    let dir = std::env::temp_dir().join(format!("descent-runner-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.ckpt.json");
    let loss = LossConfig::CrossEntropy(CrossEntropy::default());
    let base = FitConfig {
        mode: GdMode::MiniBatch { batch_size: 16 },
        epochs: 6,
        shuffle: Some(9),
        ..FitConfig::default()
    };
    let adam = || Box::new(Adam::<f64>::new(AdamConfig::default()));
    let fresh = || Mlp::<f64>::new(&[3, 8, 4], Activation::Tanh, Init::HeNormal, 5).unwrap();

    let mut whole = fresh();
    let full = Trainer::new(&mut whole, loss.clone(), adam())
        .lr(0.01)
        .config(base.clone())
        .quiet()
        .fit(&train, None)
        .unwrap();

    // Interrupted mid-epoch (step 23 of 60), then resumed from its checkpoint.
    let mut first = fresh();
    let interrupted = FitConfig {
        stopping: StoppingRules::default().with_max_steps(23),
        checkpoint: Some(CheckpointConfig {
            path: path.clone(),
            every_epochs: 1,
            resume: true,
        }),
        ..base.clone()
    };
    let part = Trainer::new(&mut first, loss.clone(), adam())
        .lr(0.01)
        .config(interrupted)
        .quiet()
        .fit(&train, None)
        .unwrap();
    assert_eq!(part.steps, 23);
    let mut second = fresh();
    let resumed = FitConfig {
        checkpoint: Some(CheckpointConfig {
            path: path.clone(),
            every_epochs: 1,
            resume: true,
        }),
        ..base
    };
    let rest = Trainer::new(&mut second, loss, adam())
        .lr(0.01)
        .config(resumed)
        .quiet()
        .fit(&train, None)
        .unwrap();
    assert_eq!(rest.steps, full.steps);
    for (a, b) in whole.params().values().iter().zip(second.params().values()) {
        let (a, b): (Vec<u64>, Vec<u64>) = (
            a.iter().map(|v| v.to_bits()).collect(),
            b.iter().map(|v| v.to_bits()).collect(),
        );
        assert_eq!(a, b, "parameters differ after resuming");
    }
    let losses = |h: &descent_runner::fit::History| {
        h.steps.iter().map(|s| s.loss.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(losses(&full.history), losses(&rest.history));
    let epoch_losses = |h: &descent_runner::fit::History| {
        h.epochs
            .iter()
            .map(|e| e.train_loss.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(epoch_losses(&full.history), epoch_losses(&rest.history));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn early_stopping_restores_the_best_weights() {
    // Few noisy training rows and many parameters: validation loss turns up soon.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let train = synthetic::linear::<f64>(12, 8, 2.0, &mut rng).unwrap().data;
    let valid = synthetic::linear::<f64>(200, 8, 2.0, &mut ChaCha8Rng::seed_from_u64(1))
        .unwrap()
        .data;
    let mut model =
        Mlp::<f64>::new(&[8, 64, 64, 1], Activation::Tanh, Init::XavierUniform, 2).unwrap();
    let config = FitConfig {
        mode: GdMode::Batch,
        epochs: 3000,
        early_stopping: Some(EarlyStopping {
            patience: 5,
            min_delta: 0.0,
            restore_best: true,
        }),
        ..FitConfig::default()
    };
    let report = Trainer::new(
        &mut model,
        mse(),
        Box::new(Adam::new(AdamConfig::default())),
    )
    .lr(0.01)
    .config(config)
    .quiet()
    .fit(&train, Some(&valid))
    .unwrap();
    let Termination::EarlyStopped {
        epoch,
        best_epoch,
        best_loss,
        restored,
    } = report.termination
    else {
        panic!("expected early stopping, got {:?}", report.termination);
    };
    assert!(restored && epoch == best_epoch + 5, "{epoch} {best_epoch}");
    let last = report.history.epochs.last().unwrap().val_loss.unwrap();
    assert!(last > best_loss, "the last epoch was worse than the best");
    // The model now holds the best epoch's weights: its validation loss is that epoch's.
    assert_eq!(
        report.validation.unwrap().loss.to_bits(),
        best_loss.to_bits()
    );
    let recorded = report.history.epochs[best_epoch as usize].val_loss.unwrap();
    assert_eq!(recorded, best_loss);
}

#[test]
fn a_diverging_run_is_reported_with_a_smaller_learning_rate() {
    let data = linear_problem();
    let mut model = Mlp::<f64>::linear(3, 1, Init::Zeros, 0).unwrap();
    let config = FitConfig {
        mode: GdMode::Batch,
        epochs: 500,
        ..FitConfig::default()
    };
    let error = Trainer::new(&mut model, mse(), sgd())
        .lr(3.0)
        .config(config)
        .quiet()
        .fit(&data, None)
        .unwrap_err();
    let FitError::Diverged {
        lr,
        suggestion,
        step,
        ..
    } = &error
    else {
        panic!("expected divergence, got {error}");
    };
    assert_eq!((*lr, *suggestion), (3.0, 0.3));
    assert!(*step > 1 && *step < 500);
    let message = error.to_string();
    assert!(
        message.contains("try a smaller learning rate, such as 3e-1"),
        "{message}"
    );
}

#[test]
fn class_targets_that_do_not_fit_the_loss_are_errors() {
    let (train, _) = classes();
    let mut model = Mlp::<f64>::linear(3, 4, Init::Zeros, 0).unwrap();
    let error = Trainer::new(&mut model, mse(), sgd())
        .quiet()
        .fit(&train, None)
        .unwrap_err();
    assert!(error.to_string().contains("use cross_entropy"), "{error}");
}

/// Counts the steps it is shown; says whether it wants them.
struct StepCounter<'a> {
    seen: &'a std::cell::Cell<u64>,
    wants: bool,
}

impl descent_runner::fit::Observer for StepCounter<'_> {
    fn step(&mut self, _record: &descent_runner::fit::StepRecord) {
        self.seen.set(self.seen.get() + 1);
    }
    fn wants_steps(&self) -> bool {
        self.wants
    }
}

/// A run whose observers want no steps (and whose history records none) skips the
/// step records, and nothing else: the same epochs and final bits; an observer that
/// wants steps sees every one.
#[test]
fn observers_that_want_no_steps_change_nothing_else() {
    let data = linear_problem();
    let run = |wants: bool| {
        let seen = std::cell::Cell::new(0);
        let mut model = Mlp::<f64>::linear(3, 1, Init::Zeros, 0).unwrap();
        let config = FitConfig {
            mode: GdMode::MiniBatch { batch_size: 16 },
            epochs: 3,
            shuffle: Some(5),
            record_steps: false,
            ..FitConfig::default()
        };
        let report = Trainer::new(&mut model, mse(), sgd())
            .lr(0.05)
            .config(config)
            .quiet()
            .observe(StepCounter { seen: &seen, wants })
            .fit(&data, None)
            .unwrap();
        let losses: Vec<u64> = report
            .history
            .epochs
            .iter()
            .map(|e| e.train_loss.to_bits())
            .collect();
        let weights: Vec<u64> = model
            .params()
            .value(0)
            .iter()
            .map(|w| w.to_bits())
            .collect();
        (seen.get(), report.steps, losses, weights)
    };
    let (seen_all, steps, losses, weights) = run(true);
    assert_eq!(steps, 3 * 13);
    assert_eq!(seen_all, steps);
    let (seen_none, steps_none, losses_none, weights_none) = run(false);
    assert_eq!(seen_none, 0);
    assert_eq!(
        (steps_none, losses_none, weights_none),
        (steps, losses, weights)
    );
}

/// A linear model with a second weight its output never uses.
struct WithUnusedWeight {
    params: descent_nn::ParamSet<f64>,
}

impl Model<f64> for WithUnusedWeight {
    fn forward_with(
        &self,
        graph: &mut descent_autodiff::Graph<f64>,
        vars: &[descent_autodiff::Var],
        x: descent_autodiff::Var,
    ) -> descent_autodiff::Var {
        graph.matmul(x, vars[0])
    }

    fn params(&self) -> &descent_nn::ParamSet<f64> {
        &self.params
    }

    fn params_mut(&mut self) -> &mut descent_nn::ParamSet<f64> {
        &mut self.params
    }
}

#[test]
fn a_parameter_the_loss_does_not_use_is_named_in_an_error() {
    let data = linear_problem();
    for clip in [
        descent_runner::fit::Clip::None,
        descent_runner::fit::Clip::Norm(1.0),
    ] {
        let mut params = descent_nn::ParamSet::new();
        params.push("used", Array2::<f64>::zeros((3, 1)).into_dyn());
        params.push("unused", Array2::<f64>::zeros((1, 1)).into_dyn());
        let mut model = WithUnusedWeight { params };
        let config = FitConfig {
            mode: GdMode::MiniBatch { batch_size: 16 },
            epochs: 1,
            clip,
            ..FitConfig::default()
        };
        let error = Trainer::new(&mut model, mse(), sgd())
            .lr(0.01)
            .config(config)
            .quiet()
            .fit(&data, None)
            .expect_err("the unused weight has no gradient");
        match error {
            FitError::UnusedParameter { name } => assert_eq!(name, "unused", "{clip:?}"),
            other => panic!("{clip:?}: {other}"),
        }
    }
}

//! The learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training
//! Neural Networks", §3.3): raise the learning rate exponentially over one epoch and
//! watch where the loss falls fastest.

use descent_autodiff::Float;
use descent_data::{BatchSize, DataLoader, Dataset};
use descent_loss::LossConfig;
use descent_nn::Model;
use descent_optim::{GdMode, Optimizer};
use serde::{Deserialize, Serialize};

use super::step::Stepper;
use crate::FitError;

/// The result of [`lr_find`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrFind {
    /// The learning rates tried, one per step.
    pub lrs: Vec<f64>,
    /// The smoothed loss at each (exponential moving average, debiased).
    pub losses: Vec<f64>,
    /// The suggested learning rate: where the smoothed loss falls fastest against
    /// log(lr).
    pub suggestion: f64,
}

/// Sweeps the learning rate from `min_lr` to `max_lr` geometrically over one epoch
/// (at least 20 steps; more epochs when an epoch is shorter) on a copy of `model`,
/// stopping early when the smoothed loss exceeds four times its best.
///
/// # Errors
/// When the data do not fit the model or loss, or `min_lr`/`max_lr` are not
/// `0 < min_lr < max_lr`.
pub fn lr_find<T: Float, M: Model<T> + Clone>(
    model: &M,
    loss: &LossConfig,
    mut optimizer: Box<dyn Optimizer<T> + Send + '_>,
    data: &Dataset<T>,
    mode: GdMode,
    (min_lr, max_lr): (f64, f64),
    seed: u64,
) -> Result<LrFind, FitError> {
    if !(min_lr > 0.0 && max_lr > min_lr && max_lr.is_finite()) {
        return Err(FitError::Data(format!(
            "lr_find needs 0 < min_lr < max_lr, got {min_lr} and {max_lr}"
        )));
    }
    let mut model = model.clone();
    let mut loader =
        DataLoader::new(data, BatchSize::Rows(mode.batch_size(data.rows())))?.shuffled(seed);
    let steps = loader.batches_per_epoch().max(20);
    let mut stepper = Stepper::new(true);
    let (mut lrs, mut losses) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    let (mut average, mut best) = (0.0, f64::INFINITY);
    let beta: f64 = 0.98;
    'sweep: while lrs.len() < steps {
        while let Some(batch) = loader.next_batch() {
            let i = lrs.len();
            if i == steps {
                break 'sweep;
            }
            let lr = min_lr * (max_lr / min_lr).powf(i as f64 / (steps - 1) as f64);
            let value = stepper.loss_and_grads(&mut model, loss, batch.features, batch.targets)?;
            average = beta * average + (1.0 - beta) * value;
            let smoothed = average / (1.0 - beta.powi(i as i32 + 1));
            if !smoothed.is_finite() || smoothed > 4.0 * best {
                break 'sweep;
            }
            best = best.min(smoothed);
            lrs.push(lr);
            losses.push(smoothed);
            let rate = T::of(lr);
            let vars = stepper.vars();
            model
                .params_mut()
                .with_graph_grads(&stepper.graph, vars, |p, g| optimizer.step(p, g, rate))
                .map_err(|i| FitError::UnusedParameter {
                    name: model.params().names()[i].clone(),
                })??;
        }
    }
    // Steepest descent of the smoothed loss against log(lr), skipping the first steps
    // where the average is still settling.
    let skip = (lrs.len() / 10).min(lrs.len().saturating_sub(2));
    let mut suggestion = lrs.first().copied().unwrap_or(min_lr);
    let mut steepest = f64::INFINITY;
    for i in skip + 1..lrs.len() {
        let slope = (losses[i] - losses[i - 1]) / (lrs[i].ln() - lrs[i - 1].ln());
        if slope < steepest {
            steepest = slope;
            suggestion = lrs[i];
        }
    }
    Ok(LrFind {
        lrs,
        losses,
        suggestion,
    })
}

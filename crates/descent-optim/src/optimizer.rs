//! The [`Optimizer`] trait and [`OptimizerState`], the per-parameter state every update rule keeps.

use std::collections::BTreeMap;

use descent_autodiff::{Float, same_shape};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use serde::{Deserialize, Serialize};

use crate::{Contiguous, OptimError};

/// One update rule stepping a fixed, ordered list of parameters.
///
/// The optimizer owns its per-parameter state (moments, accumulators), created lazily on
/// the first [`step`](Optimizer::step) in the order of `params`. The hyperparameters
/// (the algorithm), the state and the learning rate are kept apart: the learning rate
/// is an argument of every step, so that a schedule can drive it, and the state can be
/// saved and restored with [`state`](Optimizer::state) and
/// [`load_state`](Optimizer::load_state) so that a resumed run continues bit for bit.
///
/// # Example
///
/// ```
/// use descent_optim::{Adam, AdamConfig, Optimizer};
/// use ndarray::{ArrayD, IxDyn};
///
/// // Minimise f(w) = (w - 3)^2 / 2, whose gradient is w - 3.
/// let mut w = ArrayD::from_elem(IxDyn(&[1]), 0.0_f64);
/// let mut adam = Adam::new(AdamConfig::default());
/// for _ in 0..2000 {
///     let grad = w.mapv(|w| w - 3.0);
///     adam.step(&mut [w.view_mut()], &[grad.view()], 0.01).unwrap();
/// }
/// assert!((w[0] - 3.0).abs() < 1e-3);
/// assert_eq!(adam.state().step, 2000);
/// ```
pub trait Optimizer<T: Float> {
    /// The update rule's name, as in configuration files (`"adam"`).
    fn name(&self) -> &'static str;

    /// Updates every parameter in place from its gradient at the given learning rate.
    ///
    /// # Errors
    ///
    /// [`OptimError::GradCount`] or [`OptimError::GradShape`] when the gradients do not
    /// fit the parameters; [`OptimError::ParamCount`] or [`OptimError::ParamShape`] when
    /// the parameters differ from those the state was created for. Nothing is updated
    /// when an error is returned.
    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError>;

    /// [`Optimizer::step`] for parameters and gradients held in contiguous buffers, as
    /// a model's parameters and a graph's gradients are: the same update, bit for bit,
    /// without building array views, whose bookkeeping costs more than the update on a
    /// one-row step of a small model.
    ///
    /// `None` where the rule has no such path: nothing is updated, and the caller uses
    /// [`Optimizer::step`] instead (the default).
    ///
    /// # Errors
    /// As [`Optimizer::step`]; a gradient or a parameter whose length does not fit its
    /// shape is [`OptimError::GradShape`] or [`OptimError::ParamShape`].
    fn step_contiguous(
        &mut self,
        params: &mut [Contiguous<'_, T>],
        learning_rate: T,
    ) -> Option<Result<(), OptimError>> {
        let _ = (params, learning_rate);
        None
    }

    /// The state: the step count and every per-parameter buffer.
    fn state(&self) -> &OptimizerState<T>;

    /// Replaces the state with one saved earlier by the same kind of optimizer.
    ///
    /// # Errors
    ///
    /// [`OptimError::StateMismatch`] when the state belongs to another optimizer, holds
    /// other buffers than this configuration uses, or is internally inconsistent.
    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError>;

    /// Forgets all state, as if no step had been taken.
    fn reset(&mut self);
}

/// The saved state of an optimizer: its step count, its scalars and, per parameter, one
/// array per named buffer (PyTorch's names: `exp_avg`, `exp_avg_sq`, `momentum_buffer`, ...).
///
/// A state written with serde and read back resumes a run bit for bit. Through JSON this
/// needs serde_json's `float_roundtrip` feature (its default float parser can be off by
/// one unit in the last place); TOML reads floats exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct OptimizerState<T> {
    /// The name of the optimizer that wrote it.
    pub optimizer: String,
    /// Steps taken so far (PyTorch's `state["step"]`).
    pub step: u64,
    /// The names of the buffers each parameter holds, in order.
    pub buffers: Vec<String>,
    /// Scalars shared by all parameters (NAdam's `mu_product`).
    pub scalars: BTreeMap<String, f64>,
    /// The parameters' shapes, in order.
    pub shapes: Vec<Vec<usize>>,
    /// Per parameter, one array per entry of `buffers`.
    pub params: Vec<Vec<ArrayD<T>>>,
}

impl<T: Float> OptimizerState<T> {
    /// An empty state for `optimizer` with the given buffer names.
    pub fn new(optimizer: &str, buffers: &[&str]) -> Self {
        Self {
            optimizer: optimizer.to_string(),
            step: 0,
            buffers: buffers.iter().map(|b| b.to_string()).collect(),
            scalars: BTreeMap::new(),
            shapes: Vec::new(),
            params: Vec::new(),
        }
    }

    /// Checks the gradients against the parameters and the parameters against the state,
    /// creating the buffers on the first step with `init(buffer_index, shape)`.
    pub(crate) fn prepare(
        &mut self,
        optimizer: &'static str,
        params: &[ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        init: impl Fn(usize, &[usize]) -> ArrayD<T>,
    ) -> Result<(), OptimError> {
        check_grads(optimizer, params, grads)?;
        self.prepare_shapes(optimizer, params.iter().map(|p| p.shape()), init)
    }

    /// [`OptimizerState::prepare`] for contiguous parameters (see
    /// [`Optimizer::step_contiguous`]).
    pub(crate) fn prepare_contiguous(
        &mut self,
        optimizer: &'static str,
        params: &[Contiguous<'_, T>],
        init: impl Fn(usize, &[usize]) -> ArrayD<T>,
    ) -> Result<(), OptimError> {
        for (index, p) in params.iter().enumerate() {
            if p.grad.len() != p.values.len() {
                return Err(OptimError::GradShape {
                    optimizer,
                    index,
                    param: p.shape.to_vec(),
                    grad: vec![p.grad.len()],
                });
            }
            if p.shape.iter().product::<usize>() != p.values.len() {
                return Err(OptimError::ParamShape {
                    optimizer,
                    index,
                    expected: p.shape.to_vec(),
                    got: vec![p.values.len()],
                });
            }
        }
        self.prepare_shapes(optimizer, params.iter().map(|p| p.shape), init)
    }

    /// Creates the state for parameters of these shapes at the first step, and checks
    /// them against it afterwards.
    fn prepare_shapes<'s>(
        &mut self,
        optimizer: &'static str,
        shapes: impl ExactSizeIterator<Item = &'s [usize]>,
        init: impl Fn(usize, &[usize]) -> ArrayD<T>,
    ) -> Result<(), OptimError> {
        if self.step == 0 && self.shapes.is_empty() {
            self.shapes = shapes.map(<[usize]>::to_vec).collect();
            self.params = self
                .shapes
                .iter()
                .map(|shape| (0..self.buffers.len()).map(|b| init(b, shape)).collect())
                .collect();
            return Ok(());
        }
        if shapes.len() != self.shapes.len() {
            return Err(OptimError::ParamCount {
                optimizer,
                expected: self.shapes.len(),
                got: shapes.len(),
            });
        }
        for (index, (got, shape)) in shapes.zip(&self.shapes).enumerate() {
            if !same_shape(got, shape) {
                return Err(OptimError::ParamShape {
                    optimizer,
                    index,
                    expected: shape.clone(),
                    got: got.to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Replaces `self` by `state` after checking that it fits (same optimizer and buffers,
    /// consistent shapes).
    pub(crate) fn replace(
        &mut self,
        optimizer: &'static str,
        state: OptimizerState<T>,
    ) -> Result<(), OptimError> {
        let mismatch = |reason: String| Err(OptimError::StateMismatch { optimizer, reason });
        if state.optimizer != optimizer {
            return mismatch(format!("it was saved by `{}`", state.optimizer));
        }
        if state.buffers != self.buffers {
            return mismatch(format!(
                "it holds the buffers {:?} but this configuration uses {:?}",
                state.buffers, self.buffers
            ));
        }
        let keys: Vec<&String> = state.scalars.keys().collect();
        let want: Vec<&String> = self.scalars.keys().collect();
        if keys != want {
            return mismatch(format!(
                "it holds the scalars {keys:?} but {want:?} are needed"
            ));
        }
        if state.params.len() != state.shapes.len() {
            return mismatch(format!(
                "{} shapes but {} parameter entries",
                state.shapes.len(),
                state.params.len()
            ));
        }
        for (index, (buffers, shape)) in state.params.iter().zip(&state.shapes).enumerate() {
            if buffers.len() != state.buffers.len() {
                return mismatch(format!("parameter {index} holds {} buffers", buffers.len()));
            }
            if let Some(bad) = buffers.iter().position(|b| b.shape() != shape.as_slice()) {
                return mismatch(format!(
                    "buffer `{}` of parameter {index} has shape {:?}, not {shape:?}",
                    state.buffers[bad],
                    buffers[bad].shape()
                ));
            }
        }
        *self = state;
        Ok(())
    }

    /// Back to the state before the first step (scalars reset to `scalars`).
    pub(crate) fn clear(&mut self, scalars: &[(&str, f64)]) {
        self.step = 0;
        self.shapes.clear();
        self.params.clear();
        self.scalars = scalars.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    }
}

/// Checks that there is one gradient per parameter, of the parameter's shape.
pub(crate) fn check_grads<T>(
    optimizer: &'static str,
    params: &[ArrayViewMutD<'_, T>],
    grads: &[ArrayViewD<'_, T>],
) -> Result<(), OptimError> {
    if params.len() != grads.len() {
        return Err(OptimError::GradCount {
            optimizer,
            params: params.len(),
            grads: grads.len(),
        });
    }
    for (index, (p, g)) in params.iter().zip(grads).enumerate() {
        if !same_shape(p.shape(), g.shape()) {
            return Err(OptimError::GradShape {
                optimizer,
                index,
                param: p.shape().to_vec(),
                grad: g.shape().to_vec(),
            });
        }
    }
    Ok(())
}

/// A zero buffer of the given shape.
pub(crate) fn zeros<T: Float>(shape: &[usize]) -> ArrayD<T> {
    ArrayD::zeros(IxDyn(shape))
}

/// PyTorch's `lerp(start, end, weight)`, with its two-branch formula for accuracy:
/// `start + weight·(end − start)` when `|weight| < 0.5`, else `end − (end − start)·(1 − weight)`.
#[inline(always)]
pub fn lerp<T: Float>(start: T, end: T, weight: T) -> T {
    if weight.abs() < T::of(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (T::one() - weight)
    }
}

/// Checks that a hyperparameter lies in a range, naming it in the error.
pub(crate) fn check_range(
    item: &'static str,
    name: &'static str,
    value: f64,
    ok: bool,
    reason: &'static str,
) -> Result<(), OptimError> {
    if ok && !value.is_nan() {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperparameter {
            item,
            name,
            value,
            reason,
        })
    }
}

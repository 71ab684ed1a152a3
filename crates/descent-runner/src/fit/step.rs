//! One training step on a reused graph: forward, loss, backward, gradients out.

use descent_autodiff::{Float, Graph, Operand, Var};
use descent_data::{BatchTargets, Dataset, Targets};
use descent_loss::{LossConfig, Target};
use descent_nn::{Model, ParamSet};
use descent_optim::{Contiguous, Optimizer};
use ndarray::{ArcArray, ArcArray2, Array2, ArrayView2, IxDyn};

use super::norm::{NORM_CHUNK, chunked_squared_norm, squared_norm};
use crate::FitError;
use crate::metrics::{self, Metrics};

/// The graph and buffers one run reuses from step to step.
#[derive(Debug)]
pub(crate) struct Stepper<T: Float> {
    pub(crate) graph: Graph<T>,
    vars: Vec<Var>,
    /// Class indices turned into 0/1 reals for a binary loss on one output.
    binary: Array2<T>,
    /// The data set's whole feature matrix, shared, and its address: a batch that is
    /// that matrix enters the graph as a shared leaf instead of being copied into it at
    /// every step (full-batch descent reads the data only as the operations need it).
    whole: Option<(ArcArray<T, IxDyn>, usize)>,
    /// Whether large operations may use several threads.
    parallel: bool,
    /// The squared norms of the chunks of a large gradient, reused from step to step.
    partials: Vec<f64>,
    /// The list handed to [`Optimizer::step_contiguous`], empty between steps and
    /// reused (no allocation per step).
    contiguous: Vec<Contiguous<'static, T>>,
}

impl<T: Float> Stepper<T> {
    pub(crate) fn new(parallel: bool) -> Self {
        let mut graph = Graph::new();
        graph.set_parallel(parallel);
        Stepper {
            graph,
            vars: Vec::new(),
            binary: Array2::zeros((0, 1)),
            whole: None,
            parallel,
            partials: Vec::new(),
            contiguous: Vec::new(),
        }
    }

    /// Keeps the data set's shared `features`, so that a batch of all of them
    /// (full-batch descent over unshuffled rows) enters the graph without a copy.
    pub(crate) fn share_whole(&mut self, features: ArcArray2<T>) {
        let address = features.as_ptr() as usize;
        self.whole = Some((features.into_dyn(), address));
    }

    /// Starts a step's graph: the parameters' leaves.
    fn leaves<M: Model<T>>(&mut self, model: &M) {
        self.graph.clear();
        model.params().leaves(&mut self.graph, &mut self.vars);
    }

    /// Starts a step's graph: the parameters' leaves, then the batch's features.
    fn inputs<M: Model<T>>(&mut self, model: &M, x: ArrayView2<'_, T>) -> Var {
        self.leaves(model);
        match &self.whole {
            Some((whole, address))
                if *address == x.as_ptr() as usize && whole.shape() == x.shape() =>
            {
                self.graph.input(whole)
            }
            _ => self.graph.constant_view(x.into_dyn()),
        }
    }

    /// The loss node of a one-output affine model (see [`Model::as_affine`]) by one
    /// operation that reads the batch once, in place (no node holds it), where the
    /// loss can do that; `None` (with nothing recorded that matters) otherwise.
    fn affine_loss<M: Model<T>>(
        &mut self,
        model: &M,
        loss: &LossConfig,
        x: ArrayView2<'_, T>,
        y: BatchTargets<'_, T>,
    ) -> Result<Option<Var>, FitError> {
        let BatchTargets::Real(values) = y else {
            return Ok(None);
        };
        // Asked of the previous step's leaves first, so that a model that is not affine
        // costs nothing here (the very first step, with no leaves yet, composes).
        if model.inputs() != Some(x.ncols())
            || !loss.fuses_with_affine()
            || model.as_affine(&self.vars).is_none()
        {
            return Ok(None);
        }
        self.leaves(model);
        let Some((w, b)) = model.as_affine(&self.vars) else {
            return Ok(None);
        };
        // As slices with their shapes where contiguous (a loader's batches are):
        // converting the views to dynamic shapes cost more than a one-row step's row.
        let x_shape = [x.nrows(), x.ncols()];
        let y_shape = [values.len(), 1];
        let x = match x.to_slice() {
            Some(data) => Operand::Slice {
                data,
                shape: &x_shape,
            },
            None => Operand::View(x.into_dyn()),
        };
        let targets = match values.to_slice() {
            Some(data) => Operand::Slice {
                data,
                shape: &y_shape,
            },
            None => Operand::View(values.insert_axis(ndarray::Axis(1)).into_dyn()),
        };
        Ok(loss.apply_affine(&mut self.graph, x, [w, b], targets)?)
    }

    /// Builds output and loss for a batch; returns (output, loss) nodes.
    pub(crate) fn forward<M: Model<T>>(
        &mut self,
        model: &M,
        loss: &LossConfig,
        x: ArrayView2<'_, T>,
        y: BatchTargets<'_, T>,
    ) -> Result<(Var, Var), FitError> {
        if let Some(inputs) = model.inputs().filter(|&n| n != x.ncols()) {
            return Err(FitError::Data(format!(
                "the data have {} features but the model takes {inputs}",
                x.ncols()
            )));
        }
        let input = self.inputs(model, x);
        let output = model.forward_with(&mut self.graph, &self.vars, input);
        let out_shape = self.graph.shape(output);
        let (rows, outputs) = (out_shape[0], out_shape.get(1).copied().unwrap_or(1));
        let node = match (loss.takes_classes(), y) {
            (true, BatchTargets::Classes(classes)) => {
                let classes = classes.to_slice().ok_or_else(|| {
                    FitError::Data("class indices are not contiguous".to_string())
                })?;
                loss.apply(&mut self.graph, output, Target::Classes(classes))?
            }
            (false, BatchTargets::Real(values)) => {
                if outputs != 1 {
                    return Err(FitError::Data(format!(
                        "the model has {outputs} outputs but the targets are one real value per row"
                    )));
                }
                let view = values
                    .into_shape_with_order((rows, 1))
                    .map_err(|e| FitError::Data(format!("targets: {e}")))?;
                loss.apply(&mut self.graph, output, view.into_dyn())?
            }
            (false, BatchTargets::Classes(classes)) => {
                if outputs != 1 {
                    return Err(FitError::Data(format!(
                        "loss `{}` takes one real target per output, but the model has {outputs} outputs \
                         and the targets are classes: use cross_entropy",
                        loss.name()
                    )));
                }
                if self.binary.nrows() < rows {
                    self.binary = Array2::zeros((rows, 1));
                }
                for (out, &c) in self.binary.iter_mut().zip(classes) {
                    if c > 1 {
                        return Err(FitError::Data(format!(
                            "loss `{}` on one output needs two classes, found class {c}",
                            loss.name()
                        )));
                    }
                    *out = T::of_usize(c);
                }
                let view = self.binary.slice(ndarray::s![..rows, ..]);
                loss.apply(&mut self.graph, output, view.into_dyn())?
            }
            (true, BatchTargets::Real(_)) => {
                return Err(FitError::Data(format!(
                    "loss `{}` takes class targets, but the data set's targets are real values",
                    loss.name()
                )));
            }
        };
        Ok((output, node))
    }

    /// One step's loss and gradients. The gradients stay in the graph, whose
    /// references to the parameters are released ([`Graph::release_shared`]), so that
    /// the optimizer can update the parameters in place straight from the graph's
    /// gradient buffers ([`descent_nn::ParamSet::with_graph_grads`]): no copy. A
    /// parameter the loss does not depend on has no gradient, which the update
    /// reports ([`FitError::UnusedParameter`]).
    pub(crate) fn loss_and_grads<M: Model<T>>(
        &mut self,
        model: &mut M,
        loss: &LossConfig,
        x: ArrayView2<'_, T>,
        y: BatchTargets<'_, T>,
    ) -> Result<f64, FitError> {
        let node = match self.affine_loss(model, loss, x, y)? {
            Some(node) => node,
            None => self.forward(model, loss, x, y)?.1,
        };
        let value = self.graph.scalar(node).as_f64();
        self.graph.backward(node);
        self.graph.release_shared();
        Ok(value)
    }

    /// Updates the model's parameters from the graph's gradients (after
    /// [`Stepper::loss_and_grads`]) through [`Optimizer::step_contiguous`], straight
    /// from the buffers, without views. `None`, with nothing updated, where the
    /// optimizer has no such path or a parameter is not held contiguously: the caller
    /// then steps through views.
    pub(crate) fn update_contiguous(
        &mut self,
        params: &mut ParamSet<T>,
        optimizer: &mut (dyn Optimizer<T> + Send + '_),
        learning_rate: T,
    ) -> Option<Result<(), FitError>> {
        let mut entries: Vec<Contiguous<'_, T>> = recycle(std::mem::take(&mut self.contiguous));
        let count = params.len();
        for (values, &var) in params.value_slices().zip(&self.vars) {
            match (values, self.graph.grad_with_shape(var)) {
                (Some(values), Some((grad, shape))) => entries.push(Contiguous {
                    values,
                    grad,
                    shape,
                }),
                _ => break,
            }
        }
        let result = if entries.len() == count {
            optimizer.step_contiguous(&mut entries, learning_rate)
        } else {
            None
        };
        self.contiguous = recycle(entries);
        result.map(|r| r.map_err(FitError::from))
    }

    /// The leaves of the model's parameters in the graph of the last step, in order.
    pub(crate) fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// Writes the squared 2-norm of each parameter's gradient (after
    /// [`Stepper::loss_and_grads`]) into `out`, in order.
    pub(crate) fn squared_norms(&mut self, out: &mut [f64]) {
        for (&var, norm) in self.vars.iter().zip(out) {
            *norm = match self.graph.grad_slice(var) {
                Some(g) if g.len() > NORM_CHUNK => {
                    chunked_squared_norm(g, self.parallel, &mut self.partials)
                }
                Some(g) => squared_norm(g),
                None => 0.0,
            };
        }
    }
}

/// A model's loss and metrics on a whole data set.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// The loss, as the run's loss function computes it.
    pub loss: f64,
    /// The metrics for the kind of task.
    pub metrics: Metrics,
}

/// Evaluates `model` on all rows of `data`.
///
/// # Errors
/// When the data do not fit the model or the loss.
pub fn evaluate<T: Float, M: Model<T>>(
    model: &M,
    loss: &LossConfig,
    data: &Dataset<T>,
) -> Result<Evaluation, FitError> {
    let mut stepper = Stepper::new(true);
    stepper.evaluate(model, loss, data)
}

impl<T: Float> Stepper<T> {
    pub(crate) fn evaluate<M: Model<T>>(
        &mut self,
        model: &M,
        loss: &LossConfig,
        data: &Dataset<T>,
    ) -> Result<Evaluation, FitError> {
        let targets = match data.targets() {
            Targets::Real(y) => BatchTargets::Real(y.view()),
            Targets::Classes { indices, .. } => BatchTargets::Classes(indices.view()),
        };
        let (output, node) = self.forward(model, loss, data.features(), targets)?;
        let loss_value = self.graph.scalar(node).as_f64();
        let out = self.graph.value(output);
        let outputs = out.shape().get(1).copied().unwrap_or(1);
        let metrics = match data.targets() {
            Targets::Real(y) => {
                let p: Vec<f64> = out.iter().map(|v| v.as_f64()).collect();
                let y: Vec<f64> = y.iter().map(|v| v.as_f64()).collect();
                Metrics::Regression(metrics::regression(&p, &y))
            }
            Targets::Classes { indices, names } => {
                let probabilities: Vec<f64> = if outputs == 1 {
                    out.iter()
                        .flat_map(|z| {
                            let p = descent_autodiff::sigmoid(z.as_f64());
                            [1.0 - p, p]
                        })
                        .collect()
                } else {
                    let mut all = Vec::with_capacity(out.len());
                    for row in out.rows() {
                        let m = row.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.as_f64()));
                        let s: f64 = row.iter().map(|v| (v.as_f64() - m).exp()).sum();
                        all.extend(row.iter().map(|v| (v.as_f64() - m).exp() / s));
                    }
                    all
                };
                let classes = if outputs == 1 { 2 } else { outputs };
                let _ = names;
                let y: Vec<usize> = indices.iter().copied().collect();
                Metrics::Classification(metrics::classification(&probabilities, classes, &y))
            }
        };
        self.graph.clear();
        Ok(Evaluation {
            loss: loss_value,
            metrics,
        })
    }
}

/// An empty vector of another element type with `v`'s allocation (the layouts agree),
/// so that a list of borrows can be kept from step to step.
fn recycle<A, B>(mut v: Vec<A>) -> Vec<B> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

//! The fully connected layer `y = x W + b`.

use descent_autodiff::{Float, Graph, Var};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{Init, NnError, ParamSet};

/// A fully connected layer from `inputs` to `outputs` features: `y = x W + b`.
///
/// Its weight has shape `[inputs, outputs]` (the transpose of PyTorch's
/// `nn.Linear.weight`, so that `x W` needs no transpose) and its bias `[outputs]`.
/// The layer holds the indices of its parameters in a [`ParamSet`], which the model
/// owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linear {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
    weight: usize,
    bias: Option<usize>,
}

impl Linear {
    /// Adds the layer's parameters, named `{prefix}.weight` and `{prefix}.bias`, to
    /// `params`, drawn by `init` from `rng`.
    ///
    /// # Errors
    /// [`NnError::InvalidModel`] when a size is 0.
    pub fn new<T: Float>(
        params: &mut ParamSet<T>,
        prefix: &str,
        inputs: usize,
        outputs: usize,
        bias: bool,
        init: Init,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, NnError> {
        if inputs == 0 || outputs == 0 {
            return Err(NnError::InvalidModel {
                reason: format!("{prefix}: a linear layer of {inputs} → {outputs} features"),
            });
        }
        let weight = params.push(
            format!("{prefix}.weight"),
            init.weight(inputs, outputs, rng),
        );
        let bias =
            bias.then(|| params.push(format!("{prefix}.bias"), init.bias(inputs, outputs, rng)));
        Ok(Linear {
            inputs,
            outputs,
            weight,
            bias,
        })
    }

    /// The index of the weight in the model's parameter set.
    pub fn weight_index(&self) -> usize {
        self.weight
    }

    /// The index of the bias, if the layer has one.
    pub fn bias_index(&self) -> Option<usize> {
        self.bias
    }

    /// The weight and bias leaves among `vars` when the layer has a bias (and `vars`
    /// holds them).
    pub fn weight_and_bias(&self, vars: &[Var]) -> Option<(Var, Var)> {
        Some((*vars.get(self.weight)?, *vars.get(self.bias?)?))
    }

    /// `x W + b` for `x` of shape `[rows, inputs]`, with the model's parameter leaves
    /// `vars` (one per parameter of the model's set, in order).
    pub fn forward<T: Float>(&self, graph: &mut Graph<T>, vars: &[Var], x: Var) -> Var {
        match self.bias {
            // One fused operation for the usual 2-D batch: no broadcasting walk for
            // the bias, forward or backward.
            Some(bias) if graph.shape(x).len() == 2 => {
                graph.affine(x, vars[self.weight], vars[bias])
            }
            Some(bias) => {
                let product = graph.matmul(x, vars[self.weight]);
                graph.add(product, vars[bias])
            }
            None => graph.matmul(x, vars[self.weight]),
        }
    }
}

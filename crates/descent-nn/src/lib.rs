//! Layers and models for descent: [`Linear`], [`Mlp`], activations, seeded
//! initialisers and the named [`ParamSet`] that optimizers step over.
//!
//! Parameters live in the model, outside any graph, as shared arrays
//! ([`ndarray::ArcArray`]); `forward` enters them into a [`Graph`](descent_autodiff::Graph)
//! as leaves without copying them. After `graph.clear()` they can be updated in place.
//!
//! ```
//! use descent_autodiff::Graph;
//! use descent_nn::{Activation, Init, Mlp, Model};
//! use ndarray::{Array2, IxDyn};
//!
//! // 4 inputs → 8 hidden units (ReLU) → 3 outputs, PyTorch's default initialisation.
//! let mlp = Mlp::<f64>::new(&[4, 8, 3], Activation::Relu, Init::PytorchDefault, 7)?;
//! assert_eq!(mlp.params().names(), ["layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias"]);
//!
//! let x = Array2::<f64>::ones((5, 4)).into_dyn();
//! let mut graph = Graph::new();
//! let input = graph.constant(x);
//! let output = mlp.forward(&mut graph, input);
//! assert_eq!(graph.shape(output), &[5, 3]);
//! # Ok::<(), descent_nn::NnError>(())
//! ```
#![warn(missing_docs)]

mod activation;
mod error;
mod init;
mod linear;
mod mlp;
mod params;

pub use activation::Activation;
pub use error::NnError;
pub use init::Init;
pub use linear::Linear;
pub use mlp::{Mlp, MlpConfig};
pub use params::{ParamSet, SavedParams, write_atomic};

use descent_autodiff::{Float, Graph, Var};

/// A model: a function of its parameters and an input batch, built on a graph.
pub trait Model<T: Float> {
    /// The output for the input `x` (`rows × inputs`), as a graph node; the model's
    /// parameters enter the graph as shared leaves (no copy).
    ///
    /// # Panics
    /// If `x` does not have the model's number of inputs as its last axis (the graph's
    /// shape check names the operation and both shapes).
    fn forward(&self, graph: &mut Graph<T>, x: Var) -> Var {
        let vars: Vec<Var> = (0..self.params().len())
            .map(|i| self.params().leaf(graph, i))
            .collect();
        self.forward_with(graph, &vars, x)
    }

    /// The output for `x` given the parameters' leaves already in the graph (`vars`,
    /// one per parameter in order, as [`ParamSet::leaves`] makes them): the form a
    /// training loop uses, since it needs the leaves to read their gradients.
    ///
    /// # Panics
    /// As [`Model::forward`], and if `vars` has fewer entries than the model has
    /// parameters.
    fn forward_with(&self, graph: &mut Graph<T>, vars: &[Var], x: Var) -> Var;

    /// The number of input features the model takes, when it is fixed.
    fn inputs(&self) -> Option<usize> {
        None
    }

    /// The parameters, named and in a fixed order.
    fn params(&self) -> &ParamSet<T>;

    /// The parameters, for an optimizer to update in place.
    fn params_mut(&mut self) -> &mut ParamSet<T>;

    /// The weight and bias leaves (among `vars`) when the whole model is one affine
    /// map with a single output and no activation, `x w + b`: a training loop then
    /// computes an elementwise loss and its gradients in one pass over the data
    /// ([`Graph::affine_loss`]). `None` (the default) for anything else, and when
    /// `vars` is too short to hold the model's leaves.
    fn as_affine(&self, vars: &[Var]) -> Option<(Var, Var)> {
        let _ = vars;
        None
    }

    /// The layer each parameter belongs to (`"layer0"` for `layer0.weight`), in
    /// parameter order, for per-layer gradient norms.
    fn layer_of(&self, index: usize) -> &str {
        let name = &self.params().names()[index];
        name.rsplit_once('.')
            .map_or(name.as_str(), |(layer, _)| layer)
    }
}

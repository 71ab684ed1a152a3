//! The multilayer perceptron: linear layers with an activation after each, and its
//! serde description; a single layer with no activation is a linear model.

use std::path::Path;

use descent_autodiff::{Float, Graph, Var};
use serde::{Deserialize, Serialize};

use crate::params::write_atomic;
use crate::{Activation, Init, Linear, Model, NnError, ParamSet, SavedParams};

/// What an [`Mlp`] is made of: a serde type, so that a TOML file can name a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Feature counts: inputs, each hidden layer, outputs (`[64, 32, 10]`).
    pub sizes: Vec<usize>,
    /// The activation after each layer (one per layer, `sizes.len() − 1` of them).
    pub activations: Vec<Activation>,
    /// How weights and biases are drawn.
    #[serde(default)]
    pub init: Init,
    /// Whether the layers have biases.
    #[serde(default = "yes")]
    pub bias: bool,
    /// The initialisation seed.
    #[serde(default)]
    pub seed: u64,
}

fn yes() -> bool {
    true
}

impl MlpConfig {
    /// Hidden layers with `hidden` after each, and no activation on the output layer.
    pub fn new(sizes: &[usize], hidden: Activation, init: Init, seed: u64) -> Self {
        let layers = sizes.len().saturating_sub(1);
        let activations = (0..layers)
            .map(|i| {
                if i + 1 == layers {
                    Activation::Identity
                } else {
                    hidden
                }
            })
            .collect();
        MlpConfig {
            sizes: sizes.to_vec(),
            activations,
            init,
            bias: true,
            seed,
        }
    }
}

/// A multilayer perceptron: `layer0 → act0 → layer1 → act1 → …`, parameters named
/// `layer{i}.weight` and `layer{i}.bias`.
#[derive(Clone, Debug)]
pub struct Mlp<T: Float> {
    config: MlpConfig,
    layers: Vec<Linear>,
    params: ParamSet<T>,
}

/// An [`Mlp`] as saved to a file: its description and its parameters.
#[derive(Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
struct SavedMlp<T> {
    config: MlpConfig,
    params: SavedParams<T>,
}

impl<T: Float> Mlp<T> {
    /// An MLP with `hidden` after every layer but the last, which has none.
    ///
    /// # Errors
    /// [`NnError::InvalidModel`] for fewer than two sizes or a size of 0.
    pub fn new(
        sizes: &[usize],
        hidden: Activation,
        init: Init,
        seed: u64,
    ) -> Result<Self, NnError> {
        Self::from_config(MlpConfig::new(sizes, hidden, init, seed))
    }

    /// A linear model, `inputs → outputs` with a bias and no activation.
    ///
    /// # Errors
    /// [`NnError::InvalidModel`] when a size is 0.
    pub fn linear(inputs: usize, outputs: usize, init: Init, seed: u64) -> Result<Self, NnError> {
        Self::new(&[inputs, outputs], Activation::Identity, init, seed)
    }

    /// Builds the model a configuration describes.
    ///
    /// # Errors
    /// [`NnError::InvalidModel`] for fewer than two sizes, a size of 0, or a number of
    /// activations other than the number of layers.
    pub fn from_config(config: MlpConfig) -> Result<Self, NnError> {
        if config.sizes.len() < 2 {
            return Err(NnError::InvalidModel {
                reason: format!("sizes {:?}: need at least inputs and outputs", config.sizes),
            });
        }
        let layers = config.sizes.len() - 1;
        if config.activations.len() != layers {
            return Err(NnError::InvalidModel {
                reason: format!(
                    "{layers} layers but {} activations (one per layer)",
                    config.activations.len()
                ),
            });
        }
        let mut rng = crate::init::rng(config.seed);
        let mut params = ParamSet::new();
        let layers = config
            .sizes
            .windows(2)
            .enumerate()
            .map(|(i, pair)| {
                Linear::new(
                    &mut params,
                    &format!("layer{i}"),
                    pair[0],
                    pair[1],
                    config.bias,
                    config.init,
                    &mut rng,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Mlp {
            config,
            layers,
            params,
        })
    }

    /// The model's description.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// Input features.
    pub fn inputs(&self) -> usize {
        self.config.sizes[0]
    }

    /// Output features.
    pub fn outputs(&self) -> usize {
        *self.config.sizes.last().expect("at least two sizes")
    }

    /// Writes the description and parameters as JSON, atomically.
    ///
    /// # Errors
    /// [`NnError::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), NnError>
    where
        T: Serialize,
    {
        let saved = SavedMlp {
            config: self.config.clone(),
            params: self.params.snapshot(),
        };
        let json = serde_json::to_vec(&saved).map_err(|source| NnError::Format {
            path: path.display().to_string(),
            source,
        })?;
        write_atomic(path, &json)
    }

    /// Reads a model written by [`Mlp::save`], checking every parameter's shape against
    /// the description.
    ///
    /// # Errors
    /// [`NnError::Io`], [`NnError::Format`], [`NnError::InvalidModel`], or a name or
    /// shape mismatch between the description and the parameters.
    pub fn load(path: &Path) -> Result<Self, NnError>
    where
        T: for<'de> Deserialize<'de>,
    {
        let bytes = std::fs::read(path).map_err(|source| NnError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let saved: SavedMlp<T> =
            serde_json::from_slice(&bytes).map_err(|source| NnError::Format {
                path: path.display().to_string(),
                source,
            })?;
        let mut model = Self::from_config(saved.config)?;
        model.params.restore(&saved.params)?;
        Ok(model)
    }
}

impl<T: Float> Model<T> for Mlp<T> {
    fn forward_with(&self, graph: &mut Graph<T>, vars: &[Var], x: Var) -> Var {
        let mut h = x;
        for (layer, activation) in self.layers.iter().zip(&self.config.activations) {
            let z = layer.forward(graph, vars, h);
            h = activation.apply(graph, z);
        }
        h
    }

    fn inputs(&self) -> Option<usize> {
        Some(self.config.sizes[0])
    }

    fn as_affine(&self, vars: &[Var]) -> Option<(Var, Var)> {
        match (&self.layers[..], &self.config.activations[..]) {
            ([layer], [Activation::Identity]) if layer.outputs == 1 => layer.weight_and_bias(vars),
            _ => None,
        }
    }

    fn params(&self) -> &ParamSet<T> {
        &self.params
    }

    fn params_mut(&mut self) -> &mut ParamSet<T> {
        &mut self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, arr2};

    #[test]
    fn forward_matches_hand_computation() {
        let mut mlp = Mlp::<f64>::new(&[2, 2, 1], Activation::Relu, Init::Zeros, 0).unwrap();
        let w0 = arr2(&[[1.0, -1.0], [2.0, 0.5]]).into_dyn();
        let w1 = arr2(&[[3.0], [-2.0]]).into_dyn();
        let b0 = ndarray::arr1(&[0.0, -1.0]).into_dyn();
        let b1 = ndarray::arr1(&[0.25]).into_dyn();
        let saved = SavedParams {
            names: mlp.params().names().to_vec(),
            values: vec![w0, b0, w1, b1],
        };
        mlp.params_mut().restore(&saved).unwrap();
        // x = [1, 1]: z0 = [1+2, -1+0.5-1] = [3, -1.5]; relu → [3, 0]; y = 9 + 0.25.
        let mut graph = Graph::new();
        let x = graph.constant(Array2::ones((1, 2)).into_dyn());
        let y = mlp.forward(&mut graph, x);
        assert_eq!(graph.scalar(y), 9.25);
    }

    #[test]
    fn bad_descriptions_are_errors() {
        let err = Mlp::<f32>::new(&[3], Activation::Relu, Init::HeNormal, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid model: sizes [3]: need at least inputs and outputs"
        );
        let err = Mlp::<f32>::new(&[3, 0, 2], Activation::Relu, Init::HeNormal, 0).unwrap_err();
        assert!(
            err.to_string()
                .contains("layer0: a linear layer of 3 → 0 features"),
            "{err}"
        );
        let mut config = MlpConfig::new(&[3, 4, 2], Activation::Tanh, Init::XavierUniform, 1);
        config.activations.pop();
        let err = Mlp::<f32>::from_config(config).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid model: 2 layers but 1 activations (one per layer)"
        );
    }

    #[test]
    fn seeded_and_saved_with_shapes_checked() {
        let a = Mlp::<f32>::new(&[4, 5, 3], Activation::Tanh, Init::XavierUniform, 3).unwrap();
        let b = Mlp::<f32>::new(&[4, 5, 3], Activation::Tanh, Init::XavierUniform, 3).unwrap();
        assert_eq!(a.params().snapshot(), b.params().snapshot());
        assert_eq!(a.params().count(), 4 * 5 + 5 + 5 * 3 + 3);
        let dir = std::env::temp_dir().join(format!("descent-nn-mlp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mlp.json");
        a.save(&path).unwrap();
        let c = Mlp::<f32>::load(&path).unwrap();
        assert_eq!(c.params().snapshot(), a.params().snapshot());
        assert_eq!(c.config(), a.config());
        // A file whose parameters do not fit its description is refused.
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replacen("[4,5,3]", "[4,6,3]", 1);
        std::fs::write(&path, text).unwrap();
        let err = Mlp::<f32>::load(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            "saved parameter `layer0.weight` has shape [4, 5], but the model's has shape [4, 6]"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

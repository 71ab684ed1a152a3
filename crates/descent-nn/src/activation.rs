//! Activation functions, as serde-named graph operations.

use descent_autodiff::{Float, Graph, Var};
use serde::{Deserialize, Serialize};

/// An elementwise activation applied after a layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// No activation: the layer's output as it is.
    #[default]
    Identity,
    /// `max(0, x)`.
    Relu,
    /// `x` for `x > 0`, else `slope · x`.
    LeakyRelu(f64),
    /// The hyperbolic tangent.
    Tanh,
    /// The logistic function `1 / (1 + e^(−x))`.
    Sigmoid,
    /// `ln(1 + e^x)`.
    Softplus,
    /// The exact Gaussian error linear unit `x Φ(x)`.
    Gelu,
}

impl Activation {
    /// Adds the activation of `x` to the graph (no node at all for `Identity`).
    pub fn apply<T: Float>(self, graph: &mut Graph<T>, x: Var) -> Var {
        match self {
            Activation::Identity => x,
            Activation::Relu => graph.relu(x),
            Activation::LeakyRelu(slope) => graph.leaky_relu(x, T::of(slope)),
            Activation::Tanh => graph.tanh(x),
            Activation::Sigmoid => graph.sigmoid(x),
            Activation::Softplus => graph.softplus(x, T::one(), T::of(20.0)),
            Activation::Gelu => graph.gelu(x),
        }
    }

    /// The activation's value at one point, for plots and explanations.
    pub fn eval(self, x: f64) -> f64 {
        let mut graph = Graph::<f64>::new();
        let node = graph.constant(ndarray::arr0(x).into_dyn());
        let y = self.apply(&mut graph, node);
        graph.scalar(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_at_known_points() {
        assert_eq!(Activation::Relu.eval(-2.0), 0.0);
        assert_eq!(Activation::Relu.eval(3.0), 3.0);
        assert_eq!(Activation::LeakyRelu(0.1).eval(-2.0), -0.2);
        assert_eq!(Activation::Identity.eval(-1.5), -1.5);
        assert!((Activation::Tanh.eval(1.0) - 1f64.tanh()).abs() < 1e-15);
        assert!((Activation::Sigmoid.eval(0.0) - 0.5).abs() < 1e-15);
        assert!((Activation::Softplus.eval(0.0) - 2f64.ln()).abs() < 1e-15);
        // GELU(1) = Φ(1) = 0.841344746...
        assert!((Activation::Gelu.eval(1.0) - 0.841_344_746_068_542_9).abs() < 1e-12);
    }

    #[test]
    fn serde_names() {
        let json = serde_json::to_string(&[Activation::Relu, Activation::LeakyRelu(0.01)]).unwrap();
        assert_eq!(json, r#"["relu",{"leaky_relu":0.01}]"#);
        let err = serde_json::from_str::<Activation>(r#""rleu""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `rleu`"), "{err}");
    }
}

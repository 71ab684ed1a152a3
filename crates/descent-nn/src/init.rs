//! Seeded weight initialisers: PyTorch's `nn.Linear` default, Xavier/Glorot and He/Kaiming.

use descent_autodiff::Float;
use ndarray::{ArrayD, IxDyn};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};
use serde::{Deserialize, Serialize};

/// How a layer's weights (`fan_in × fan_out`) and bias are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// PyTorch's `nn.Linear`: weights and bias uniform in ±1/√fan_in.
    #[default]
    PytorchDefault,
    /// Glorot & Bengio (2010): weights uniform in ±√(6 / (fan_in + fan_out)), bias 0.
    XavierUniform,
    /// Glorot & Bengio (2010): weights normal with σ = √(2 / (fan_in + fan_out)), bias 0.
    XavierNormal,
    /// He et al. (2015), for ReLU: weights uniform in ±√(6 / fan_in), bias 0.
    HeUniform,
    /// He et al. (2015), for ReLU: weights normal with σ = √(2 / fan_in), bias 0.
    HeNormal,
    /// All weights and biases 0 (a linear model's textbook start).
    Zeros,
}

impl Init {
    /// Draws a weight matrix of shape `[fan_in, fan_out]`.
    pub fn weight<T: Float>(
        self,
        fan_in: usize,
        fan_out: usize,
        rng: &mut ChaCha8Rng,
    ) -> ArrayD<T> {
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        let shape = IxDyn(&[fan_in, fan_out]);
        match self {
            Init::PytorchDefault => uniform(shape, 1.0 / fi.sqrt(), rng),
            Init::XavierUniform => uniform(shape, (6.0 / (fi + fo)).sqrt(), rng),
            Init::XavierNormal => normal(shape, (2.0 / (fi + fo)).sqrt(), rng),
            Init::HeUniform => uniform(shape, (6.0 / fi).sqrt(), rng),
            Init::HeNormal => normal(shape, (2.0 / fi).sqrt(), rng),
            Init::Zeros => ArrayD::zeros(shape),
        }
    }

    /// Draws a bias vector of shape `[fan_out]`.
    pub fn bias<T: Float>(self, fan_in: usize, fan_out: usize, rng: &mut ChaCha8Rng) -> ArrayD<T> {
        match self {
            Init::PytorchDefault => uniform(IxDyn(&[fan_out]), 1.0 / (fan_in as f64).sqrt(), rng),
            _ => ArrayD::zeros(IxDyn(&[fan_out])),
        }
    }
}

fn uniform<T: Float>(shape: IxDyn, bound: f64, rng: &mut ChaCha8Rng) -> ArrayD<T> {
    if bound.is_finite() && bound > 0.0 {
        let dist = Uniform::new_inclusive(-bound, bound).expect("finite, ordered bounds");
        ArrayD::from_shape_simple_fn(shape, || T::of(dist.sample(rng)))
    } else {
        ArrayD::zeros(shape)
    }
}

fn normal<T: Float>(shape: IxDyn, std: f64, rng: &mut ChaCha8Rng) -> ArrayD<T> {
    match Normal::new(0.0, std) {
        Ok(dist) if std.is_finite() => {
            ArrayD::from_shape_simple_fn(shape, || T::of(dist.sample(rng)))
        }
        _ => ArrayD::zeros(shape),
    }
}

/// A seeded generator, the one every initialiser in descent uses.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    use rand::SeedableRng;
    ChaCha8Rng::seed_from_u64(seed)
}

/// Whether all values are in `[-bound, bound]` (for tests).
#[cfg(test)]
fn within(a: &ArrayD<f64>, bound: f64) -> bool {
    a.iter().all(|v| v.abs() <= bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_of(a: &ArrayD<f64>) -> f64 {
        let n = a.len() as f64;
        let mean = a.sum() / n;
        (a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
    }

    #[test]
    fn bounds_and_spreads_match_the_formulas() {
        let mut r = rng(1);
        let w: ArrayD<f64> = Init::PytorchDefault.weight(100, 50, &mut r);
        assert!(within(&w, 0.1) && std_of(&w) > 0.05);
        let b: ArrayD<f64> = Init::PytorchDefault.bias(100, 50, &mut r);
        assert!(within(&b, 0.1) && b.iter().any(|&v| v != 0.0));
        let w: ArrayD<f64> = Init::XavierUniform.weight(100, 50, &mut r);
        assert!(within(&w, 0.2));
        // Uniform on ±a has σ = a/√3 = 0.2/√3 ≈ 0.1155.
        assert!((std_of(&w) - 0.2 / 3f64.sqrt()).abs() < 0.005);
        let w: ArrayD<f64> = Init::HeNormal.weight(200, 100, &mut r);
        assert!((std_of(&w) - 0.1).abs() < 0.003);
        let w: ArrayD<f64> = Init::XavierNormal.weight(150, 150, &mut r);
        assert!((std_of(&w) - (2.0f64 / 300.0).sqrt()).abs() < 0.003);
        let w: ArrayD<f64> = Init::HeUniform.weight(24, 100, &mut r);
        assert!(within(&w, 0.5) && w.iter().any(|v| v.abs() > 0.45));
        assert!(
            Init::HeNormal
                .bias::<f64>(3, 4, &mut r)
                .iter()
                .all(|&v| v == 0.0)
        );
        assert!(
            Init::Zeros
                .weight::<f64>(3, 4, &mut r)
                .iter()
                .all(|&v| v == 0.0)
        );
    }

    #[test]
    fn same_seed_same_weights_other_seed_other_weights() {
        let a: ArrayD<f32> = Init::XavierNormal.weight(8, 8, &mut rng(5));
        let b: ArrayD<f32> = Init::XavierNormal.weight(8, 8, &mut rng(5));
        let c: ArrayD<f32> = Init::XavierNormal.weight(8, 8, &mut rng(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

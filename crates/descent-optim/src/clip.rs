//! Gradient clipping by global norm and by value, as `torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_` compute them.

use descent_autodiff::Float;
use ndarray::ArrayViewMutD;

use crate::OptimError;
use crate::optimizer::check_range;

/// Scales all gradients together so that their global `norm_type`-norm is at most
/// `max_norm`, and returns the norm before clipping, as `torch.nn.utils.clip_grad_norm_`
/// (the scale is `min(1, max_norm / (total + 1e-6))`; `norm_type` may be `f64::INFINITY`).
///
/// # Errors
///
/// [`OptimError::InvalidHyperparameter`] for a negative `max_norm` or a `norm_type` that
/// is not positive.
///
/// # Example
///
/// ```
/// use descent_optim::clip_grad_norm;
/// use ndarray::{ArrayD, IxDyn};
///
/// let mut g = ArrayD::from_shape_vec(IxDyn(&[2]), vec![3.0_f64, 4.0]).unwrap();
/// let total = clip_grad_norm(&mut [g.view_mut()], 1.0, 2.0).unwrap();
/// assert_eq!(total, 5.0);
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm<T: Float>(
    grads: &mut [ArrayViewMutD<'_, T>],
    max_norm: f64,
    norm_type: f64,
) -> Result<T, OptimError> {
    check_range(
        "clip_grad_norm",
        "max_norm",
        max_norm,
        max_norm >= 0.0,
        "must be >= 0",
    )?;
    check_range(
        "clip_grad_norm",
        "norm_type",
        norm_type,
        norm_type > 0.0,
        "must be > 0",
    )?;
    let total = global_norm(grads, norm_type);
    let coef = T::of(max_norm) / (total + T::of(1e-6));
    if coef < T::one() {
        for g in grads.iter_mut() {
            g.mapv_inplace(|g| g * coef);
        }
    }
    Ok(total)
}

/// The `norm_type`-norm of all gradients taken together (the norm of the per-array
/// norms, as PyTorch computes it).
pub fn global_norm<T: Float>(grads: &[ArrayViewMutD<'_, T>], norm_type: f64) -> T {
    if norm_type.is_infinite() {
        return grads
            .iter()
            .flat_map(|g| g.iter())
            .fold(T::zero(), |acc, &g| acc.max(g.abs()));
    }
    let p = T::of(norm_type);
    let per_array = grads.iter().map(|g| {
        if norm_type == 2.0 {
            g.iter().fold(T::zero(), |acc, &x| acc + x * x).sqrt()
        } else {
            g.iter()
                .fold(T::zero(), |acc, &x| acc + x.abs().powf(p))
                .powf(T::one() / p)
        }
    });
    if norm_type == 2.0 {
        per_array.fold(T::zero(), |acc, n| acc + n * n).sqrt()
    } else {
        per_array
            .fold(T::zero(), |acc, n| acc + n.powf(p))
            .powf(T::one() / p)
    }
}

/// Clamps every gradient entry to `[-clip_value, clip_value]`, as
/// `torch.nn.utils.clip_grad_value_`.
///
/// # Errors
///
/// [`OptimError::InvalidHyperparameter`] for a negative `clip_value`.
pub fn clip_grad_value<T: Float>(
    grads: &mut [ArrayViewMutD<'_, T>],
    clip_value: f64,
) -> Result<(), OptimError> {
    check_range(
        "clip_grad_value",
        "clip_value",
        clip_value,
        clip_value >= 0.0,
        "must be >= 0",
    )?;
    let c = T::of(clip_value);
    for g in grads.iter_mut() {
        g.mapv_inplace(|g| {
            if g > c {
                c
            } else if g < -c {
                -c
            } else {
                g
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn arrays(values: &[&[f64]]) -> Vec<ArrayD<f64>> {
        values
            .iter()
            .map(|v| ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn norm_clipping_scales_all_arrays_together_and_returns_the_old_norm() {
        // ‖(3, 4, 12)‖ = 13; clipped to 6.5 every entry halves (up to the 1e-6 guard).
        let mut g = arrays(&[&[3.0, 4.0], &[12.0]]);
        let mut views: Vec<_> = g.iter_mut().map(|g| g.view_mut()).collect();
        let total = clip_grad_norm(&mut views, 6.5, 2.0).unwrap();
        assert_eq!(total, 13.0);
        let scale = 6.5 / (13.0 + 1e-6);
        assert_eq!(g[0][0], 3.0 * scale);
        assert_eq!(g[1][0], 12.0 * scale);
    }

    #[test]
    fn norm_clipping_leaves_small_gradients_alone() {
        let mut g = arrays(&[&[0.3, -0.4]]);
        let total = clip_grad_norm(&mut [g[0].view_mut()], 1.0, 2.0).unwrap();
        assert_eq!(total, 0.5);
        assert_eq!(g[0].as_slice().unwrap(), &[0.3, -0.4]);
    }

    #[test]
    fn infinity_and_one_norms() {
        let mut g = arrays(&[&[1.0, -5.0], &[2.0]]);
        let mut views: Vec<_> = g.iter_mut().map(|g| g.view_mut()).collect();
        assert_eq!(global_norm(&views, f64::INFINITY), 5.0);
        assert!((global_norm(&views, 1.0) - 8.0).abs() < 1e-12);
        assert!(clip_grad_norm(&mut views, 1.0, -1.0).is_err());
    }

    #[test]
    fn value_clipping_clamps_each_entry() {
        let mut g = arrays(&[&[-3.0, 0.5, 2.0]]);
        clip_grad_value(&mut [g[0].view_mut()], 1.0).unwrap();
        assert_eq!(g[0].as_slice().unwrap(), &[-1.0, 0.5, 1.0]);
        let err = clip_grad_value(&mut [g[0].view_mut()], -1.0).unwrap_err();
        assert!(matches!(
            err,
            OptimError::InvalidHyperparameter {
                name: "clip_value",
                ..
            }
        ));
    }

    #[test]
    fn clipping_in_f32() {
        let mut g = ArrayD::from_shape_vec(IxDyn(&[2]), vec![6.0_f32, 8.0]).unwrap();
        let total = clip_grad_norm(&mut [g.view_mut()], 5.0, 2.0).unwrap();
        assert_eq!(total, 10.0);
        assert!((g[0] - 3.0).abs() < 1e-5);
    }
}

//! One parameter held in one contiguous buffer: the form of
//! [`Optimizer::step_contiguous`](crate::Optimizer::step_contiguous).

/// A parameter's values and gradient, each a slice in standard (row-major) order, and
/// the parameter's shape.
///
/// ```
/// use descent_optim::{Contiguous, Optimizer, Sgd, SgdConfig};
///
/// let (mut w, grad) = (vec![1.0_f64, 2.0], vec![0.5, -0.5]);
/// let mut sgd = Sgd::new(SgdConfig::default());
/// let mut params = [Contiguous { values: &mut w, grad: &grad, shape: &[2] }];
/// sgd.step_contiguous(&mut params, 0.1).expect("SGD has this path").unwrap();
/// assert_eq!(w, [0.95, 2.05]);
/// ```
#[derive(Debug)]
pub struct Contiguous<'a, T> {
    /// The values, updated in place.
    pub values: &'a mut [T],
    /// The gradient, as long as `values`.
    pub grad: &'a [T],
    /// The parameter's shape (its product is the length of `values`).
    pub shape: &'a [usize],
}

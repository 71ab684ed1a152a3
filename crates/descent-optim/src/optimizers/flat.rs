//! The bridge between a list of parameter arrays and the flat vectors that L-BFGS and the
//! line search work on.

use descent_autodiff::Float;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};

/// Copies the parameters, in order and in logical element order, into `flat`.
pub(crate) fn gather<T: Float>(params: &[ArrayViewMutD<'_, T>], flat: &mut Vec<T>) {
    flat.clear();
    for p in params {
        flat.extend(p.iter().copied());
    }
}

/// Copies `flat` back into the parameters, in the order of [`gather`].
pub(crate) fn scatter<T: Float>(flat: &[T], params: &mut [ArrayViewMutD<'_, T>]) {
    let mut offset = 0;
    for p in params.iter_mut() {
        for (dst, &src) in p.iter_mut().zip(&flat[offset..]) {
            *dst = src;
        }
        offset += p.len();
    }
}

/// Wraps an objective over parameter arrays as an objective over a flat vector: it writes
/// the flat point into `params`, calls `objective(params, grads)` and flattens the gradient.
pub(crate) struct FlatObjective<'a, 'p, T: Float, F> {
    pub params: &'a mut [ArrayViewMutD<'p, T>],
    pub grads: Vec<ArrayD<T>>,
    pub objective: F,
}

impl<'a, 'p, T, F> FlatObjective<'a, 'p, T, F>
where
    T: Float,
    F: FnMut(&[ArrayViewD<'_, T>], &mut [ArrayViewMutD<'_, T>]) -> T,
{
    pub fn new(params: &'a mut [ArrayViewMutD<'p, T>], objective: F) -> Self {
        let grads = params
            .iter()
            .map(|p| ArrayD::zeros(IxDyn(p.shape())))
            .collect();
        Self {
            params,
            grads,
            objective,
        }
    }

    /// f(x), writing ∇f(x) into `grad`.
    pub fn eval(&mut self, x: &[T], grad: &mut [T]) -> T {
        scatter(x, self.params);
        let views: Vec<ArrayViewD<'_, T>> = self.params.iter().map(|p| p.view()).collect();
        let mut grad_views: Vec<ArrayViewMutD<'_, T>> =
            self.grads.iter_mut().map(|g| g.view_mut()).collect();
        let loss = (self.objective)(&views, &mut grad_views);
        let mut offset = 0;
        for g in &self.grads {
            for (dst, &src) in grad[offset..].iter_mut().zip(g.iter()) {
                *dst = src;
            }
            offset += g.len();
        }
        loss
    }
}

/// `Σ a_i·b_i`, in order.
pub(crate) fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::zero(), |acc, (&x, &y)| acc + x * y)
}

/// `max |a_i|` (0 for an empty slice).
pub(crate) fn max_abs<T: Float>(a: &[T]) -> T {
    a.iter().fold(T::zero(), |acc, &x| acc.max(x.abs()))
}

//! Second derivatives by reverse mode over forward mode: the graph runs over
//! [`Dual`] numbers whose tangent is the direction `v`, so one backward pass gives the
//! gradient (real parts) and the Hessian–vector product `H v` (tangents) exactly.

use ndarray::{Array1, Array2, ArrayView1};

use crate::{Dual, Float, Graph, Var};

/// Value, gradient and Hessian–vector product of a scalar function at a point.
#[derive(Clone, Debug, PartialEq)]
pub struct HessianVectorProduct<T> {
    /// `f(x)`
    pub value: T,
    /// `∇f(x)`
    pub gradient: Array1<T>,
    /// `∇²f(x) · v`
    pub hvp: Array1<T>,
}

/// `∇²f(x) · v` for a scalar function `f` of a vector, written as graph operations on
/// its input node.
///
/// ```
/// use descent_autodiff::second_order::hessian_vector_product;
/// use ndarray::arr1;
///
/// // f(x) = sum(x³): H = diag(6x), so H·v = 6 x ⊙ v.
/// let x = arr1(&[1.0_f64, 2.0]);
/// let v = arr1(&[1.0_f64, 0.5]);
/// let result = hessian_vector_product(|g, x| { let c = g.powf(x, descent_autodiff::Dual::constant(3.0)); g.sum(c) }, x.view(), v.view());
/// assert_eq!(result.hvp.to_vec(), vec![6.0, 6.0]);
/// ```
///
/// # Panics
/// When `x` and `v` differ in length or `f` does not return a scalar.
pub fn hessian_vector_product<T: Float>(
    f: impl Fn(&mut Graph<Dual<T>>, Var) -> Var,
    x: ArrayView1<'_, T>,
    v: ArrayView1<'_, T>,
) -> HessianVectorProduct<T> {
    let mut graph = Graph::new();
    hvp_in(&mut graph, &f, x, v)
}

fn hvp_in<T: Float>(
    graph: &mut Graph<Dual<T>>,
    f: &impl Fn(&mut Graph<Dual<T>>, Var) -> Var,
    x: ArrayView1<'_, T>,
    v: ArrayView1<'_, T>,
) -> HessianVectorProduct<T> {
    assert_eq!(
        x.len(),
        v.len(),
        "hessian_vector_product: x has {} elements, v {}",
        x.len(),
        v.len()
    );
    graph.clear();
    let point: Array1<Dual<T>> = x.iter().zip(v).map(|(&x, &v)| Dual::new(x, v)).collect();
    let input = graph.param_owned(point.into_dyn());
    let out = f(graph, input);
    let value = graph.scalar(out);
    graph.backward(out);
    let grad = graph
        .grad(input)
        .map(|g| g.to_owned())
        .unwrap_or_else(|| ndarray::ArrayD::zeros(ndarray::IxDyn(&[x.len()])));
    HessianVectorProduct {
        value: value.value,
        gradient: grad.iter().map(|d| d.value).collect(),
        hvp: grad.iter().map(|d| d.derivative).collect(),
    }
}

/// The full Hessian of a scalar function of a small vector: one Hessian–vector
/// product per unit vector. Returns the value, the gradient and the Hessian.
///
/// ```
/// use descent_autodiff::second_order::hessian;
/// use ndarray::arr1;
///
/// // f(x, y) = x²y: H = [[2y, 2x], [2x, 0]].
/// let (_, _, h) = hessian(|g, v| {
///     let x = g.slice(v, 0, 0, 1, 1);
///     let y = g.slice(v, 0, 1, 2, 1);
///     let xx = g.mul(x, x);
///     let f = g.mul(xx, y);
///     g.sum(f)
/// }, arr1(&[3.0_f64, 5.0]).view());
/// assert_eq!(h.into_raw_vec_and_offset().0, vec![10.0, 6.0, 6.0, 0.0]);
/// ```
pub fn hessian<T: Float>(
    f: impl Fn(&mut Graph<Dual<T>>, Var) -> Var,
    x: ArrayView1<'_, T>,
) -> (T, Array1<T>, Array2<T>) {
    let n = x.len();
    let mut graph = Graph::new();
    let mut matrix = Array2::zeros((n, n));
    let mut value = T::zero();
    let mut gradient = Array1::zeros(n);
    for column in 0..n {
        let mut unit = Array1::zeros(n);
        unit[column] = T::one();
        let result = hvp_in(&mut graph, &f, x, unit.view());
        matrix.column_mut(column).assign(&result.hvp);
        value = result.value;
        gradient = result.gradient;
    }
    (value, gradient, matrix)
}

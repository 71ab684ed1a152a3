//! Finite differences: the limit definition of the derivative, evaluated numerically,
//! and [`gradcheck`], which holds a graph's gradients against it.

use ndarray::{ArrayD, ArrayViewD};

use crate::{Float, Graph, Var};

/// The central difference `(f(x + h) − f(x − h)) / 2h`, the symmetric form of the
/// limit definition of the derivative; its error shrinks as `h²`.
///
/// ```
/// use descent_autodiff::finite_difference::central_difference;
/// let slope = central_difference(|x: f64| x * x, 3.0, 1e-5);
/// assert!((slope - 6.0).abs() < 1e-8);
/// ```
pub fn central_difference<T: Float>(f: impl Fn(T) -> T, x: T, h: T) -> T {
    (f(x + h) - f(x - h)) / (h + h)
}

/// A step that balances truncation against rounding for the five-point stencil.
fn step<T: Float>(x: T) -> T {
    T::epsilon().powf(T::of(0.2)) * x.abs().max(T::one())
}

/// The five-point central difference (error `O(h⁴)`) with a step chosen for `x`.
pub fn derivative<T: Float>(mut f: impl FnMut(T) -> T, x: T) -> T {
    let h = step(x);
    let two = T::of(2.0);
    (f(x - two * h) - T::of(8.0) * f(x - h) + T::of(8.0) * f(x + h) - f(x + two * h))
        / (T::of(12.0) * h)
}

/// The numerical gradient of `f` at `x`, one five-point difference per element.
pub fn gradient<T: Float>(f: impl Fn(ArrayViewD<'_, T>) -> T, x: ArrayViewD<'_, T>) -> ArrayD<T> {
    let mut point = x.to_owned();
    let mut gradient = ArrayD::zeros(x.raw_dim());
    for k in 0..point.len() {
        let original = point.as_slice().expect("owned arrays are contiguous")[k];
        let partial = derivative(
            |value| {
                point.as_slice_mut().expect("contiguous")[k] = value;
                f(point.view())
            },
            original,
        );
        gradient.as_slice_mut().expect("contiguous")[k] = partial;
        point.as_slice_mut().expect("contiguous")[k] = original;
    }
    gradient
}

/// How far a graph's gradients are from the finite-difference ones.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// The largest `|analytic − numerical|` over all elements of all inputs.
    pub max_absolute_error: f64,
    /// The largest `|analytic − numerical| / max(|analytic|, |numerical|, 1)`: relative
    /// for large derivatives, absolute for those below 1.
    pub max_relative_error: f64,
    /// Which input and element gave the largest relative error.
    pub worst: (usize, usize),
}

impl GradcheckReport {
    /// Whether the largest relative error is within `tolerance`.
    pub fn passes(&self, tolerance: f64) -> bool {
        self.max_relative_error <= tolerance
    }
}

/// Compares the reverse-mode gradients of `build` (a function of the given inputs,
/// all treated as parameters; a non-scalar output is summed) with five-point finite
/// differences, element by element.
///
/// ```
/// use descent_autodiff::finite_difference::gradcheck;
/// use ndarray::arr1;
///
/// let x = arr1(&[0.3_f64, -1.2, 2.0]).into_dyn();
/// let report = gradcheck(|g, v| { let t = g.tanh(v[0]); g.mul(t, v[0]) }, &[x]);
/// assert!(report.passes(1e-8), "{report:?}");
/// ```
pub fn gradcheck<T: Float>(
    build: impl Fn(&mut Graph<T>, &[Var]) -> Var,
    inputs: &[ArrayD<T>],
) -> GradcheckReport {
    let mut graph = Graph::new();
    let evaluate = |graph: &mut Graph<T>, values: &[ArrayD<T>], differentiate: bool| {
        graph.clear();
        let vars: Vec<Var> = values
            .iter()
            .map(|v| graph.param_owned(v.clone()))
            .collect();
        let out = build(graph, &vars);
        let total = if graph.shape(out).is_empty() {
            out
        } else {
            graph.sum(out)
        };
        if differentiate {
            graph.backward(total);
        }
        (vars, graph.scalar(total))
    };
    let (vars, _) = evaluate(&mut graph, inputs, true);
    let analytic: Vec<ArrayD<T>> = vars
        .iter()
        .zip(inputs)
        .map(|(&v, x)| {
            graph
                .grad(v)
                .map(|g| g.to_owned())
                .unwrap_or_else(|| ArrayD::zeros(x.raw_dim()))
        })
        .collect();
    let mut report = GradcheckReport {
        max_absolute_error: 0.0,
        max_relative_error: 0.0,
        worst: (0, 0),
    };
    let mut values = inputs.to_vec();
    let mut scratch = Graph::new();
    for (which, input) in inputs.iter().enumerate() {
        for k in 0..input.len() {
            let original = input.as_slice_memory_order().expect("contiguous input")[k];
            let numerical = derivative(
                |value| {
                    values[which]
                        .as_slice_memory_order_mut()
                        .expect("contiguous")[k] = value;
                    evaluate(&mut scratch, &values, false).1
                },
                original,
            );
            values[which]
                .as_slice_memory_order_mut()
                .expect("contiguous")[k] = original;
            let exact = analytic[which].as_slice_memory_order().expect("contiguous")[k];
            let (a, n) = (exact.as_f64(), numerical.as_f64());
            let absolute = (a - n).abs();
            let relative = absolute / a.abs().max(n.abs()).max(1.0);
            report.max_absolute_error = report.max_absolute_error.max(absolute);
            if relative > report.max_relative_error || relative.is_nan() {
                report.max_relative_error = relative;
                report.worst = (which, k);
            }
        }
    }
    report
}

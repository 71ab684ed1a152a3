//! Reductions as PyTorch defines them, and the two fused kernels every loss runs on:
//! one for element-wise losses, one for per-sample (class) losses.

use descent_autodiff::{Float, Graph, Var, flush_subnormal};
use ndarray::{ArrayView1, ArrayViewD, ArrayViewMut1, Axis, Dimension, Ix1, IxDyn, Zip};
use serde::{Deserialize, Serialize};

use crate::{LossError, Target};

/// How the per-element (or per-sample) losses become the returned value.
///
/// `Mean` divides by the number of elements for element-wise losses (mse, l1, huber,
/// smooth_l1, bce, bce_with_logits, poisson_nll) and by the number of samples `N`
/// for per-sample losses (cross_entropy, nll, multi_margin), exactly as PyTorch does.
/// `None` returns the unreduced losses: input-shaped for element-wise losses, `[N]`
/// for per-sample losses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reduction {
    /// The average (the default).
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction.
    None,
}

/// The reduction of an element-wise loss: keep the elements, sum them, or sum them
/// and divide by a count.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reduce {
    None,
    Sum,
    DivideBy(usize),
}

impl Reduce {
    /// The element-wise meaning of a [`Reduction`] for an input of `numel` elements.
    pub(crate) fn elementwise(reduction: Reduction, numel: usize) -> Self {
        match reduction {
            Reduction::Mean => Reduce::DivideBy(numel),
            Reduction::Sum => Reduce::Sum,
            Reduction::None => Reduce::None,
        }
    }
}

/// An element-wise loss as one fused node. `f(x, y, w)` returns the element's loss
/// and its derivative by `x`, where `w` is the element of `weight` (broadcast over the
/// input; 1 where there is none).
pub(crate) fn elementwise<T: Float>(
    graph: &mut Graph<T>,
    loss: &'static str,
    input: Var,
    target: Target<'_, T>,
    weight: Option<&[f64]>,
    reduce: Reduce,
    f: impl Fn(T, T, T) -> (T, T),
) -> Result<Var, LossError> {
    // Shapes as `IxDyn` are inline for up to four axes: a warm step allocates nothing.
    let input_shape = IxDyn(graph.shape(input));
    let target = target.real(graph, loss)?;
    if target.shape != input_shape {
        return Err(LossError::ShapeMismatch {
            loss,
            input: input_shape.slice().to_vec(),
            target: target.shape.slice().to_vec(),
            expected: input_shape.slice().to_vec(),
        });
    }
    let output_shape: &[usize] = match reduce {
        Reduce::None => input_shape.slice(),
        Reduce::Sum | Reduce::DivideBy(_) => &[],
    };
    let unweighted = weight.is_none();
    let one = [1.0];
    let weight = ArrayView1::from(weight.unwrap_or(&one));
    // A 0-d input takes its one weight as a 0-d array.
    let weight = match input_shape.ndim() {
        0 => weight.index_axis_move(Axis(0), 0).into_dyn(),
        _ => weight.into_dyn(),
    };
    let weight = weight
        .broadcast(input_shape.clone())
        .expect("weights are checked to fit the input's last axis");
    let node = target.node;
    let value = graph.fused(
        input,
        node,
        output_shape,
        |x, from_graph, mut out, mut local| {
            let y = target.values(from_graph);
            match reduce {
                Reduce::None => Zip::from(&mut out)
                    .and(&mut local)
                    .and(&x)
                    .and(&y)
                    .and(&weight)
                    .for_each(|o, d, &x, &y, &w| (*o, *d) = f(x, y, T::of(w))),
                Reduce::Sum | Reduce::DivideBy(_) => {
                    let count = match reduce {
                        Reduce::DivideBy(count) => Some(T::of_usize(count)),
                        _ => None,
                    };
                    let mut total = 0.0_f64;
                    let mut visit = |d: &mut T, x: T, y: T, w: T| {
                        let (l, dl) = f(x, y, w);
                        total += l.as_f64();
                        *d = count.map_or(dl, |count| dl / count);
                    };
                    // Contiguous and unweighted (the usual case): a plain loop over
                    // slices, in the same order, instead of a walk by index.
                    if let (true, Some(ds), Some(xs), Some(ys)) =
                        (unweighted, local.as_slice_mut(), x.as_slice(), y.as_slice())
                        && xs.len() == ds.len()
                        && ys.len() == ds.len()
                    {
                        for ((d, &x), &y) in ds.iter_mut().zip(xs).zip(ys) {
                            visit(d, x, y, T::one());
                        }
                    } else {
                        Zip::from(&mut local)
                            .and(&x)
                            .and(&y)
                            .and(&weight)
                            .for_each(|d, &x, &y, &w| visit(d, x, y, T::of(w)));
                    }
                    let total = reduce_total(total, reduce);
                    out.fill(T::of(total));
                }
            }
        },
    );
    Ok(value)
}

/// `total` divided as `reduce` says (accumulated in f64, also for f32 losses).
fn reduce_total(total: f64, reduce: Reduce) -> f64 {
    match reduce {
        Reduce::DivideBy(count) => total / count as f64,
        Reduce::Sum | Reduce::None => total,
    }
}

/// Checks that a class loss's input has shape `[N, C]` and returns it.
pub(crate) fn class_input<T: Float>(
    graph: &Graph<T>,
    loss: &'static str,
    input: Var,
    target: &Target<'_, T>,
) -> Result<[usize; 2], LossError> {
    let shape = graph.shape(input);
    match *shape {
        [rows, classes] if classes > 0 => Ok([rows, classes]),
        _ => Err(LossError::InputShape {
            loss,
            input: shape.to_vec(),
            target: target_shape(graph, target),
            expected: "[N, C] with C >= 1 (N samples, C classes)",
        }),
    }
}

/// A per-sample loss on an input of shape `[N, C]` with one class per row, as one
/// fused node. `row_loss(x_n, y_n, local_n)` returns `l_n` and writes `d l_n / d x_n`
/// into `local_n`.
pub(crate) fn per_sample<T: Float>(
    graph: &mut Graph<T>,
    loss: &'static str,
    input: Var,
    target: Target<'_, T>,
    reduction: Reduction,
    row_loss: impl Fn(ArrayView1<'_, T>, usize, ArrayViewMut1<'_, T>) -> T,
) -> Result<Var, LossError> {
    let shape = class_input(graph, loss, input, &target)?;
    let classes = target.classes(graph, loss, &shape)?;
    let rows = shape[0];
    let output_shape: &[usize] = match reduction {
        Reduction::None => &shape[..1],
        Reduction::Sum | Reduction::Mean => &[],
    };
    let node = classes.node();
    let value = graph.fused(
        input,
        node,
        output_shape,
        |x, from_graph, mut out, mut local| {
            let rows_iter = x.axis_iter(Axis(0)).zip(local.axis_iter_mut(Axis(0)));
            let labels = classes.iter(from_graph);
            let mut total = 0.0_f64;
            let count = T::of_usize(rows);
            for (n, ((x_n, mut local_n), class)) in rows_iter.zip(labels).enumerate() {
                let x_n = x_n
                    .into_dimensionality::<Ix1>()
                    .expect("rows of a 2-D input");
                let l = row_loss(
                    x_n,
                    class,
                    local_n
                        .view_mut()
                        .into_dimensionality::<Ix1>()
                        .expect("1-D"),
                );
                match reduction {
                    Reduction::None => out[[n]] = l,
                    Reduction::Sum => total += l.as_f64(),
                    Reduction::Mean => {
                        total += l.as_f64();
                        // A gradient near the bottom of the normal range divided by the
                        // batch size can turn subnormal: stored as zero instead (see
                        // `flush_subnormal`).
                        local_n.mapv_inplace(|d| flush_subnormal(d / count));
                    }
                }
            }
            match reduction {
                Reduction::None => {}
                Reduction::Sum => out.fill(T::of(total)),
                Reduction::Mean => out.fill(T::of(total / rows as f64)),
            }
        },
    );
    Ok(value)
}

/// Checks a per-class weight vector against the input's last axis.
pub(crate) fn check_weight_length(
    loss: &'static str,
    parameter: &'static str,
    length: usize,
    input: &[usize],
) -> Result<(), LossError> {
    let expected = input.last().copied().unwrap_or(1);
    if length == expected || length == 1 {
        Ok(())
    } else {
        Err(LossError::ParameterLength {
            loss,
            parameter,
            length,
            expected,
            input: input.to_vec(),
        })
    }
}

/// A target's shape without resolving it (for messages).
pub(crate) fn target_shape<T: Float>(graph: &Graph<T>, target: &Target<'_, T>) -> Vec<usize> {
    match target {
        Target::Var(var) => graph.shape(*var).to_vec(),
        Target::View(view) => view.shape().to_vec(),
        Target::Classes(classes) => vec![classes.len()],
    }
}

/// Returns `Err` for the first element of `values` outside `[lo, hi]` (NaN passes,
/// so that a diverged prediction shows up as a non-finite loss, not an error).
pub(crate) fn check_range<T: Float>(
    values: ArrayViewD<'_, T>,
    (lo, hi): (f64, f64),
    error: impl FnOnce(Vec<usize>, f64) -> LossError,
) -> Result<(), LossError> {
    for (index, &value) in values.indexed_iter() {
        let v = value.as_f64();
        if v < lo || v > hi {
            return Err(error(index.slice().to_vec(), v));
        }
    }
    Ok(())
}

//! Property tests: for every differentiable operation, on random shapes (broadcasting
//! included) and values, reverse-mode gradients agree with finite differences to a
//! relative error below 1e-6 in float64.

use descent_autodiff::finite_difference::gradcheck;
use descent_autodiff::{Graph, Var};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

const TOLERANCE: f64 = 1e-6;

/// An array of `shape` with values drawn from `lo..hi`, optionally kept at least
/// `gap` away from `kink` (where the function is not differentiable).
fn array(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = ArrayD<f64>> {
    let len = shape.iter().product::<usize>();
    proptest::collection::vec(lo..hi, len)
        .prop_map(move |data| ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap())
}

fn away_from(kink: f64, gap: f64, shape: Vec<usize>) -> impl Strategy<Value = ArrayD<f64>> {
    array(shape, -2.0, 2.0).prop_map(move |a| {
        a.mapv(|v| {
            if (v - kink).abs() < gap {
                kink + gap.copysign(v - kink) * 2.0
            } else {
                v
            }
        })
    })
}

/// Values at least 0.27 apart, so a maximum never ties (a kink for differences).
fn distinct(shape: Vec<usize>) -> impl Strategy<Value = ArrayD<f64>> {
    array(shape, 0.0, 0.1).prop_map(|a| {
        let n = a.len() as f64;
        let mut k = 0.0;
        a.mapv(|v| {
            k += 1.0;
            ((k * 0.37) % (0.37 * n))
                * if (k as usize).is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                }
                + v
        })
    })
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1..4usize, 1..=3)
}

/// Two shapes that broadcast: same, row, column, outer, scalar, or a missing axis.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (1..4usize, 1..4usize, 0..6u8).prop_map(|(m, n, kind)| match kind {
        0 => (vec![m, n], vec![m, n]),
        1 => (vec![m, n], vec![n]),
        2 => (vec![m, n], vec![m, 1]),
        3 => (vec![m, 1], vec![1, n]),
        4 => (vec![m, n], vec![]),
        _ => (vec![n], vec![m, n]),
    })
}

fn check(
    inputs: &[ArrayD<f64>],
    build: impl Fn(&mut Graph<f64>, &[Var]) -> Var,
) -> Result<(), TestCaseError> {
    let report = gradcheck(&build, inputs);
    prop_assert!(report.passes(TOLERANCE), "{report:?} for inputs {inputs:?}");
    warm_step_matches(inputs, &build)
}

/// A warm step (buffers kept from an earlier one, where backward hands gradient
/// buffers over to inputs instead of copying them) gives the bits of a cold one.
fn warm_step_matches(
    inputs: &[ArrayD<f64>],
    build: impl Fn(&mut Graph<f64>, &[Var]) -> Var,
) -> Result<(), TestCaseError> {
    let step = |graph: &mut Graph<f64>| -> Vec<Option<Vec<u64>>> {
        graph.clear();
        let vars: Vec<Var> = inputs
            .iter()
            .map(|v| graph.param_owned(v.clone()))
            .collect();
        let out = build(graph, &vars);
        let total = if graph.shape(out).is_empty() {
            out
        } else {
            graph.sum(out)
        };
        graph.backward(total);
        vars.iter()
            .map(|&v| {
                graph
                    .grad(v)
                    .map(|g| g.iter().map(|x| x.to_bits()).collect())
            })
            .collect()
    };
    let mut graph = Graph::new();
    let cold = step(&mut graph);
    for _ in 0..2 {
        prop_assert_eq!(&step(&mut graph), &cold, "a warm step's gradients differ");
    }
    Ok(())
}

macro_rules! unary_property {
    ($name:ident, $strategy:expr, |$g:ident, $x:ident| $body:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            #[test]
            fn $name(x in shape().prop_flat_map(|s| $strategy(s))) {
                check(&[x], |$g, v| { let $x = v[0]; $body })?;
            }
        }
    };
}

unary_property!(neg, |s| array(s, -3.0, 3.0), |g, x| g.neg(x));
unary_property!(exp, |s| array(s, -3.0, 3.0), |g, x| g.exp(x));
unary_property!(ln, |s| array(s, 0.2, 5.0), |g, x| g.ln(x));
unary_property!(sqrt, |s| array(s, 0.2, 5.0), |g, x| g.sqrt(x));
unary_property!(abs, |s| away_from(0.0, 0.05, s), |g, x| g.abs(x));
unary_property!(sin, |s| array(s, -4.0, 4.0), |g, x| g.sin(x));
unary_property!(cos, |s| array(s, -4.0, 4.0), |g, x| g.cos(x));
unary_property!(tanh, |s| array(s, -3.0, 3.0), |g, x| g.tanh(x));
unary_property!(sigmoid, |s| array(s, -6.0, 6.0), |g, x| g.sigmoid(x));
unary_property!(relu, |s| away_from(0.0, 0.05, s), |g, x| g.relu(x));
unary_property!(leaky_relu, |s| away_from(0.0, 0.05, s), |g, x| g
    .leaky_relu(x, 0.1));
unary_property!(softplus, |s| array(s, -5.0, 5.0), |g, x| g
    .softplus(x, 2.0, 20.0));
unary_property!(gelu, |s| array(s, -3.0, 3.0), |g, x| g.gelu(x));
unary_property!(gelu_tanh, |s| array(s, -3.0, 3.0), |g, x| g.gelu_tanh(x));
unary_property!(powf, |s| array(s, 0.3, 3.0), |g, x| g.powf(x, 2.7));
unary_property!(powf_negative, |s| array(s, 0.3, 3.0), |g, x| g
    .powf(x, -1.5));
unary_property!(base_pow, |s| array(s, -2.0, 2.0), |g, x| g.base_pow(x, 3.0));
unary_property!(
    clamp,
    |s| away_from(0.5, 0.05, s).prop_map(|a| a.mapv(|v| if (v + 0.5).abs() < 0.05 {
        -0.6
    } else {
        v
    })),
    |g, x| g.clamp(x, -0.5, 0.5)
);
unary_property!(scalar_ops, |s| array(s, -2.0, 2.0), |g, x| {
    let y = g.mul_scalar(x, -1.5);
    let z = g.add_scalar(y, 0.25);
    g.scalar_sub(0.75, z)
});
unary_property!(sum_all, |s| array(s, -2.0, 2.0), |g, x| {
    let y = g.mul(x, x);
    g.sum(y)
});
unary_property!(mean_last_axis, |s| array(s, -2.0, 2.0), |g, x| {
    let last = g.shape(x).len() - 1;
    let y = g.exp(x);
    g.mean_axis(y, Some(last), true)
});
unary_property!(sum_first_axis, |s| array(s, -2.0, 2.0), |g, x| {
    let y = g.sin(x);
    g.sum_axis(y, Some(0), false)
});
unary_property!(max_all, distinct, |g, x| g.max(x));
unary_property!(max_axis, distinct, |g, x| g.max_axis(x, 0, false));
unary_property!(softmax, |s| array(s, -3.0, 3.0), |g, x| {
    let last = g.shape(x).len() - 1;
    let y = g.softmax(x, last);
    let w = g.mul(y, y);
    g.sum(w)
});
unary_property!(log_softmax, |s| array(s, -3.0, 3.0), |g, x| {
    let y = g.log_softmax(x, 0);
    let w = g.sin(y);
    g.sum(w)
});
unary_property!(logsumexp, |s| array(s, -3.0, 3.0), |g, x| {
    let last = g.shape(x).len() - 1;
    g.logsumexp(x, last, false)
});
unary_property!(norm_all, |s| array(s, 0.2, 2.0), |g, x| g.norm(x, None));
unary_property!(norm_axis, |s| array(s, 0.2, 2.0), |g, x| g.norm(x, Some(0)));
unary_property!(transpose, |s| array(s, -2.0, 2.0), |g, x| {
    let n = g.shape(x).len();
    let t = g.transpose(x, 0, n - 1);
    let w = g.sin(t);
    let c = g.mul(w, t);
    g.sum(c)
});
unary_property!(reshape, |s| array(s, -2.0, 2.0), |g, x| {
    let n: usize = g.shape(x).iter().product();
    let r = g.reshape(x, &[n]);
    let w = g.tanh(r);
    g.sum(w)
});
unary_property!(slice, |s: Vec<usize>| array(s, -2.0, 2.0), |g, x| {
    let n = g.shape(x)[0];
    let r = g.slice(x, 0, n / 2, n, 1);
    let w = g.exp(r);
    g.sum(w)
});
unary_property!(index_select, |s| array(s, -2.0, 2.0), |g, x| {
    let n = g.shape(x)[0];
    let rows: Vec<usize> = (0..2 * n).map(|i| (i * 7) % n).collect();
    let r = g.index_select(x, &rows);
    let w = g.sin(r);
    g.sum(w)
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn binary_with_broadcasting(
        (a, b) in broadcast_pair().prop_flat_map(|(sa, sb)| (array(sa, 0.5, 2.0), array(sb, 0.5, 2.0))),
        which in 0..5u8,
    ) {
        check(&[a, b], |g, v| match which {
            0 => g.add(v[0], v[1]),
            1 => g.sub(v[0], v[1]),
            2 => g.mul(v[0], v[1]),
            3 => g.div(v[0], v[1]),
            _ => g.pow(v[0], v[1]),
        })?;
    }

    #[test]
    fn where_mask(
        (a, b, m) in shape().prop_flat_map(|s| (array(s.clone(), -2.0, 2.0), array(s.clone(), -2.0, 2.0), array(s, 0.0, 1.0))),
    ) {
        let mask = m.mapv(|v| if v > 0.5 { 1.0 } else { 0.0 });
        check(&[a, b], |g, v| { let mask = g.constant(mask.clone()); g.where_mask(mask, v[0], v[1]) })?;
    }

    #[test]
    fn matmul_2d_batched_and_vector(
        (m, k, n, batch) in (1..4usize, 1..4usize, 1..4usize, 1..3usize),
        kind in 0..4u8,
        seed in array(vec![64], -2.0, 2.0),
    ) {
        let take = |shape: &[usize], offset: usize| {
            let len = shape.iter().product::<usize>();
            ArrayD::from_shape_vec(IxDyn(shape), seed.iter().cycle().skip(offset).take(len).copied().collect()).unwrap()
        };
        let (a, b) = match kind {
            0 => (take(&[m, k], 0), take(&[k, n], 7)),
            1 => (take(&[batch, m, k], 0), take(&[k, n], 5)),
            2 => (take(&[batch, m, k], 0), take(&[batch, k, n], 3)),
            _ => (take(&[m, k], 0), take(&[k], 11)),
        };
        check(&[a, b], |g, v| { let p = g.matmul(v[0], v[1]); let w = g.tanh(p); g.sum(w) })?;
    }

    #[test]
    fn affine(
        (m, k, n) in (1..6usize, 1..5usize, 1..40usize),
        seed in array(vec![64], -2.0, 2.0),
    ) {
        let take = |shape: &[usize], offset: usize| {
            let len = shape.iter().product::<usize>();
            ArrayD::from_shape_vec(IxDyn(shape), seed.iter().cycle().skip(offset).take(len).copied().collect()).unwrap()
        };
        let (x, w, b) = (take(&[m, k], 0), take(&[k, n], 7), take(&[n], 3));
        check(&[x, w, b], |g, v| { let y = g.affine(v[0], v[1], v[2]); let t = g.tanh(y); g.sum(t) })?;
    }

    #[test]
    fn concat_and_gather(
        (a, b) in (1..4usize, 1..4usize, 1..4usize).prop_flat_map(|(m, n, p)| (array(vec![m, n], -2.0, 2.0), array(vec![p, n], -2.0, 2.0))),
    ) {
        check(&[a, b], |g, v| {
            let joined = g.concat(&[v[0], v[1]], 0);
            let (rows, columns) = (g.shape(joined)[0], g.shape(joined)[1]);
            let index: Vec<usize> = (0..rows * 2).map(|i| (i * 5 + 1) % columns).collect();
            let picked = g.gather(joined, &index, 2);
            let w = g.exp(picked);
            g.sum(w)
        })?;
    }
}

//! A warm step computes the gradients of a cold one, bit for bit.
//!
//! On a warm graph (buffers sized by an earlier step), elementwise backward hands the
//! upstream gradient buffer itself to one input and transforms it in place instead of
//! writing a copy. These tests run every elementwise operation through every way its
//! inputs can be wired (distinct, the same node twice, a constant on either side, an
//! input that already holds a gradient) and compare three steps on one graph with the
//! first, cold one.

use descent_autodiff::{Binary, Graph, Unary, Var};
use ndarray::{ArcArray, Array, IxDyn};

fn values(seed: f64, lo: f64) -> ArcArray<f64, IxDyn> {
    Array::from_shape_fn(12, |i| lo + 0.9 + ((i as f64 + seed) * 0.77).sin() * 0.6)
        .into_shape_with_order(IxDyn(&[3, 4]))
        .unwrap()
        .into_shared()
}

/// Gradients (as bits) of `a` and `b` in three consecutive steps of one graph.
fn steps(build: impl Fn(&mut Graph<f64>, Var, Var) -> Var, constant: [bool; 2]) -> Vec<Vec<u64>> {
    let (a, b) = (values(0.0, 0.0), values(5.0, 0.1));
    let mut graph = Graph::<f64>::new();
    graph.set_parallel(false);
    (0..3)
        .map(|_| {
            graph.clear();
            let leaf = |graph: &mut Graph<f64>, value, constant| {
                if constant {
                    graph.input(value)
                } else {
                    graph.param(value)
                }
            };
            let (va, vb) = (
                leaf(&mut graph, &a, constant[0]),
                leaf(&mut graph, &b, constant[1]),
            );
            let out = build(&mut graph, va, vb);
            let total = graph.sum(out);
            graph.backward(total);
            [va, vb]
                .iter()
                .flat_map(|&v| graph.grad(v).into_iter().flat_map(|g| g.to_owned()))
                .map(f64::to_bits)
                .collect()
        })
        .collect()
}

fn assert_warm_equals_cold(name: &str, build: impl Fn(&mut Graph<f64>, Var, Var) -> Var) {
    for constant in [[false, false], [true, false], [false, true]] {
        let runs = steps(&build, constant);
        if constant == [false, false] {
            assert!(!runs[0].is_empty(), "{name}: no gradient");
        }
        for (k, run) in runs.iter().enumerate().skip(1) {
            assert_eq!(
                run, &runs[0],
                "{name}, constants {constant:?}: step {k} differs"
            );
        }
    }
}

const BINARY: [Binary; 5] = [
    Binary::Add,
    Binary::Sub,
    Binary::Mul,
    Binary::Div,
    Binary::Pow,
];

#[test]
fn binary_operations_on_distinct_inputs() {
    for op in BINARY {
        assert_warm_equals_cold(&format!("{op:?}"), |g, a, b| g.binary(a, b, op));
    }
}

#[test]
fn binary_operations_on_one_input_twice() {
    for op in BINARY {
        assert_warm_equals_cold(&format!("{op:?}(a, a)"), |g, a, _| g.binary(a, a, op));
    }
}

#[test]
fn binary_operations_whose_inputs_already_hold_gradients() {
    for op in BINARY {
        // `a` and `b` get a gradient from `extra` first (backward runs in reverse),
        // so one or both cannot take the upstream buffer.
        assert_warm_equals_cold(&format!("{op:?} after a"), |g, a, b| {
            let out = g.binary(a, b, op);
            let extra = g.mul_scalar(a, 3.0);
            g.add(out, extra)
        });
        assert_warm_equals_cold(&format!("{op:?} after b"), |g, a, b| {
            let out = g.binary(a, b, op);
            let extra = g.exp(b);
            g.add(out, extra)
        });
    }
}

#[test]
fn chains_that_pass_one_buffer_along() {
    assert_warm_equals_cold("rosenbrock-like chain", |g, a, b| {
        let square = g.mul(a, a);
        let gap = g.sub(b, square);
        let gap_square = g.mul(gap, gap);
        let scaled = g.mul_scalar(gap_square, 100.0);
        let shifted = g.add_scalar(a, -1.0);
        let second = g.mul(shifted, shifted);
        g.add(scaled, second)
    });
}

#[test]
fn unary_functions() {
    let functions = [
        Unary::Neg,
        Unary::Exp,
        Unary::Ln,
        Unary::Sqrt,
        Unary::Abs,
        Unary::Sin,
        Unary::Cos,
        Unary::Tanh,
        Unary::Sigmoid,
        Unary::Relu,
        Unary::LeakyRelu(0.1),
        Unary::Softplus {
            beta: 1.5,
            threshold: 20.0,
        },
        Unary::Gelu,
        Unary::GeluTanh,
        Unary::Powf(2.5),
        Unary::BasePow(1.7),
        Unary::Clamp(0.5, 1.2),
        Unary::AddScalar(0.25),
        Unary::MulScalar(-1.5),
        Unary::ScalarSub(2.0),
    ];
    for function in functions {
        assert_warm_equals_cold(&format!("{function:?}"), |g, a, b| {
            let y = g.unary(a, function);
            // Also through an input that already holds a gradient.
            let z = g.unary(b, function);
            let w = g.mul_scalar(b, 0.5);
            let z = g.add(z, w);
            g.add(y, z)
        });
    }
}

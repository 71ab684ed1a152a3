//! Gradient descent by hand: the textbook walk-through, with derivatives from the
//! autodiff graph.
//!
//! What it shows:
//! - minimising f(x) = x² from x = 4 with learning rate 0.1: each step is
//!   x ← x − 0.1 · 2x = 0.8 x, so x goes 3.2, 2.56, 2.048, … towards 0;
//! - a learning rate that is too small (crawls) and one that is too large
//!   (|1 − 2·lr| > 1: every step overshoots further, and the iterates diverge);
//! - a non-convex function, f(x) = x⁴ − 3x² + x, where the starting point decides
//!   which of its two minima gradient descent finds;
//! - a deep, narrow network of sigmoid layers, where the gradient reaching the first
//!   layer is many orders of magnitude smaller than at the last: it vanishes.
//!
//! Run it with `cargo run --release --example gradient_descent_by_hand`.

use descent::autodiff::{Graph, Var};
use ndarray::{ArrayD, IxDyn};

/// Runs `steps` of gradient descent on a scalar function built by `f`, returning the path.
fn descend(f: impl Fn(&mut Graph<f64>, Var) -> Var, start: f64, lr: f64, steps: usize) -> Vec<f64> {
    let mut graph = Graph::new();
    let mut x = ArrayD::from_elem(IxDyn(&[]), start).into_shared();
    let mut path = vec![start];
    for _ in 0..steps {
        let xv = graph.param(&x);
        let y = f(&mut graph, xv);
        graph.backward(y);
        let g = graph.grad(xv).map_or(0.0, |g| g[[]]);
        graph.clear();
        x[[]] -= lr * g;
        path.push(x[[]]);
    }
    path
}

fn square(graph: &mut Graph<f64>, x: Var) -> Var {
    graph.mul(x, x)
}

fn main() {
    println!("f(x) = x², f'(x) = 2x, start x = 4, learning rate 0.1: x ← x − 0.1·2x = 0.8x");
    for (i, x) in descend(square, 4.0, 0.1, 10).iter().enumerate().skip(1) {
        println!("  step {i:>2}: x = {x:.6}   f(x) = {:.6}", x * x);
    }

    println!("\nlearning rate too small (0.001): after 10 steps x is still near 4");
    let slow = descend(square, 4.0, 0.001, 10);
    println!("  x = {:.6}", slow[10]);
    println!("learning rate too large (1.1): x ← x − 2.2x = −1.2x, each step overshoots further");
    for (i, x) in descend(square, 4.0, 1.1, 6).iter().enumerate().skip(1) {
        println!("  step {i}: x = {x:.4}");
    }

    println!("\nnon-convex f(x) = x⁴ − 3x² + x: two minima, the start decides which is found");
    let quartic = |g: &mut Graph<f64>, x: Var| {
        let x2 = g.mul(x, x);
        let x4 = g.mul(x2, x2);
        let m = g.mul_scalar(x2, -3.0);
        let a = g.add(x4, m);
        g.add(a, x)
    };
    for start in [-2.0, -0.5, 0.5, 2.0] {
        let end = *descend(quartic, start, 0.01, 2000).last().expect("a path");
        let f = end.powi(4) - 3.0 * end * end + end;
        println!("  from x = {start:>4}: x = {end:.5}, f(x) = {f:.5}");
    }

    println!("\ndeep narrow network: 20 layers of 1 unit, h ← sigmoid(w·h), every w = 1");
    let mut graph = Graph::<f64>::new();
    let weights: Vec<_> = (0..20)
        .map(|_| ArrayD::from_elem(IxDyn(&[1]), 1.0).into_shared())
        .collect();
    let mut h = graph.constant(ArrayD::from_elem(IxDyn(&[1]), 1.0));
    let mut leaves = Vec::new();
    for w in &weights {
        let wv = graph.param(w);
        leaves.push(wv);
        let z = graph.mul(wv, h);
        h = graph.sigmoid(z);
    }
    let out = graph.sum(h);
    graph.backward(out);
    for (layer, &wv) in leaves.iter().enumerate() {
        if layer % 4 == 0 || layer == 19 {
            let g = graph.grad(wv).map_or(0.0, |g| g[0]);
            println!("  layer {layer:>2}: ∂out/∂w = {g:.3e}");
        }
    }
    println!("  sigmoid's slope is at most 1/4, so each layer multiplies the gradient by ≤ 1/4:");
    println!("  the first layers barely learn. ReLU and careful initialisation are the cure.");
}

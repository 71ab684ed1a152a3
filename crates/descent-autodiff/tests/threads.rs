//! Results do not depend on the thread count: large matmuls and elementwise operations
//! split over threads give the same bits as one thread.

use descent_autodiff::Graph;
use ndarray::{ArcArray, Array, IxDyn};

fn shared(shape: &[usize], seed: f64) -> ArcArray<f64, IxDyn> {
    let n: usize = shape.iter().product();
    Array::from_shape_fn(n, |i| ((i as f64 * 0.37 + seed).sin() * 3.0).fract())
        .into_shape_with_order(IxDyn(shape))
        .unwrap()
        .into_shared()
}

/// Value and gradients of a network large enough to cross every parallel threshold.
fn run(parallel: bool) -> Vec<f64> {
    let x = shared(&[300, 200], 0.1);
    let w = shared(&[200, 400], 0.2);
    let b = shared(&[400], 0.3);
    let mut graph = Graph::<f64>::new();
    graph.set_parallel(parallel);
    let (xv, wv, bv) = (graph.param(&x), graph.param(&w), graph.param(&b));
    let product = graph.matmul(xv, wv);
    let shifted = graph.add(product, bv);
    let activated = graph.tanh(shifted);
    let squared = graph.mul(activated, activated);
    let loss = graph.mean(squared);
    graph.backward(loss);
    let mut out = vec![graph.scalar(loss)];
    for v in [xv, wv, bv] {
        out.extend(graph.grad(v).unwrap().iter().copied());
    }
    out
}

#[test]
fn one_thread_or_many_give_the_same_bits() {
    let serial = run(false);
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let parallel = pool.install(|| run(true));
        assert!(
            serial
                .iter()
                .zip(&parallel)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "results on {threads} threads differ from one thread"
        );
    }
}

//! A warm training step allocates nothing for the graph: after one step has sized
//! every buffer, building the same graph again and running backward makes no heap
//! allocation at all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use descent_autodiff::Graph;
use ndarray::{ArcArray, Array, IxDyn};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn shared(shape: &[usize], seed: f64) -> ArcArray<f64, IxDyn> {
    let n: usize = shape.iter().product();
    Array::from_shape_fn(n, |i| ((i as f64 + seed) * 0.7).sin())
        .into_shape_with_order(IxDyn(shape))
        .unwrap()
        .into_shared()
}

#[test]
fn a_warm_step_allocates_nothing() {
    let x = shared(&[8, 5], 0.0);
    let w1 = shared(&[5, 6], 1.0);
    let b1 = shared(&[6], 2.0);
    let w2 = shared(&[6, 3], 3.0);
    let labels = [0usize, 2, 1, 1, 0, 2, 2, 1];
    let mut graph = Graph::<f64>::new();
    graph.set_parallel(false);
    let step = |graph: &mut Graph<f64>| {
        graph.clear();
        let (x, w1v, b1v, w2v) = (
            graph.input(&x),
            graph.param(&w1),
            graph.param(&b1),
            graph.param(&w2),
        );
        let hidden = graph.matmul(x, w1v);
        let hidden = graph.add(hidden, b1v);
        let hidden = graph.relu(hidden);
        let logits = graph.matmul(hidden, w2v);
        let log_probabilities = graph.log_softmax(logits, 1);
        let picked = graph.gather(log_probabilities, &labels, 1);
        let nll = graph.mean(picked);
        let loss = graph.neg(nll);
        // A few more families, so each is covered.
        let transposed = graph.transpose(hidden, 0, 1);
        let flat = graph.reshape(transposed, &[48]);
        let top = graph.slice(flat, 0, 0, 24, 2);
        let joined = graph.concat(&[top, top], 0);
        let norm = graph.norm(joined, None);
        let row_max = graph.max_axis(logits, 1, true);
        let shifted = graph.sub(logits, row_max);
        let soft = graph.softmax(shifted, 1);
        let kept = graph.sum_axis(soft, Some(0), false);
        let extra = graph.sum(kept);
        let fused = graph.fused(extra, None, &[], |input, _, mut out, mut local| {
            out.fill(input.sum() * 0.5);
            local.fill(0.5);
        });
        let total = graph.add(loss, norm);
        let total = graph.add(total, fused);
        graph.backward(total);
        graph.release_shared();
        graph.grad(w1v).unwrap().sum()
    };
    let first = step(&mut graph);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let second = step(&mut graph);
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(first, second, "the same step gives the same gradient");
    assert_eq!(allocations, 0, "a warm step allocated {allocations} times");
}

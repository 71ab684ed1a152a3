//! Once a graph is warm, a loss allocates nothing beyond what the graph's own fused
//! node costs: the kernels reuse the graph's buffers and read targets in place.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use descent_autodiff::Graph;
use descent_loss::{BceWithLogits, CrossEntropy, KlDiv, LossConfig, Mse, Reduction};
use ndarray::Array2;

/// Counts the allocations of the thread that asked for counting.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            COUNT.with(|count| count.set(count.get() + 1));
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, that is from the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Counts the allocations of `f`.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = COUNT.with(Cell::get);
    COUNTING.with(|counting| counting.set(true));
    let result = f();
    COUNTING.with(|counting| counting.set(false));
    (COUNT.with(Cell::get) - before, result)
}

#[test]
fn a_warm_step_allocates_nothing_beyond_the_graph() {
    let x = Array2::from_shape_fn((8, 5), |(i, j)| (i as f64 - 3.5) * 0.3 + j as f64 * 0.1);
    let x = x.into_dyn().into_shared();
    let y = Array2::from_shape_fn((8, 5), |(i, j)| ((i + j) % 2) as f64).into_dyn();
    let p = Array2::from_elem((8, 5), 0.2).into_dyn();
    let classes: Vec<usize> = (0..8).map(|i| i % 5).collect();
    let bce = LossConfig::from(BceWithLogits::with_pos_weight(
        vec![1.5; 5],
        Reduction::Mean,
    ));
    let step = |graph: &mut Graph<f64>| {
        graph.clear();
        let input = graph.param(&x);
        let target = graph.constant_view(y.view());
        let losses = [
            Mse::new(Reduction::Mean)
                .apply(graph, input, target)
                .unwrap(),
            bce.apply(graph, input, y.view()).unwrap(),
            CrossEntropy {
                label_smoothing: 0.1,
                reduction: Reduction::Sum,
            }
            .apply(graph, input, &classes)
            .unwrap(),
            KlDiv::default().apply(graph, input, p.view()).unwrap(),
        ];
        for loss in losses {
            graph.backward(loss);
        }
        graph.grad(input).unwrap()[[0, 0]]
    };
    // The same graph with four bare fused nodes: what the graph itself allocates.
    let bare = |graph: &mut Graph<f64>| {
        graph.clear();
        let input = graph.param(&x);
        let target = graph.constant_view(y.view());
        for _ in 0..4 {
            let out = graph.fused(input, Some(target), &[], |x, _, mut out, mut local| {
                local.assign(&x);
                out.fill(x.sum());
            });
            graph.backward(out);
        }
        graph.grad(input).unwrap()[[0, 0]]
    };
    let (mut graph, mut baseline) = (Graph::<f64>::new(), Graph::<f64>::new());
    let cold = step(&mut graph);
    bare(&mut baseline);
    let (losses, warm) = allocations(|| step(&mut graph));
    let (graph_only, _) = allocations(|| bare(&mut baseline));
    assert_eq!(cold, warm);
    assert_eq!(
        losses, graph_only,
        "the losses allocate beyond the graph's fused nodes"
    );
}

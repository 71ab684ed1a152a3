//! A shape that does not fit is a programming error: the panic names the operation
//! and both shapes, instead of an index out of bounds deep inside a kernel.

use descent_autodiff::Graph;
use ndarray::{ArrayD, IxDyn};

fn zeros(graph: &mut Graph<f64>, shape: &[usize]) -> descent_autodiff::Var {
    graph.constant(ArrayD::zeros(IxDyn(shape)))
}

#[test]
#[should_panic(expected = "matmul: shapes [2, 3] and [4, 5] do not fit")]
fn matmul_inner_sizes_must_agree() {
    let mut graph = Graph::new();
    let (a, b) = (zeros(&mut graph, &[2, 3]), zeros(&mut graph, &[4, 5]));
    graph.matmul(a, b);
}

#[test]
#[should_panic(expected = "matmul: shapes [2, 3, 4] and [3, 4, 5] do not fit")]
fn matmul_batches_must_agree() {
    let mut graph = Graph::new();
    let (a, b) = (zeros(&mut graph, &[2, 3, 4]), zeros(&mut graph, &[3, 4, 5]));
    graph.matmul(a, b);
}

#[test]
#[should_panic(expected = "add: shapes [3, 4] and [3] do not broadcast")]
fn broadcasting_must_fit() {
    let mut graph = Graph::new();
    let (a, b) = (zeros(&mut graph, &[3, 4]), zeros(&mut graph, &[3]));
    graph.add(a, b);
}

#[test]
#[should_panic(expected = "concat: shape [2, 3] does not fit [2, 4] along axis 0")]
fn concat_needs_matching_axes() {
    let mut graph = Graph::new();
    let (a, b) = (zeros(&mut graph, &[2, 4]), zeros(&mut graph, &[2, 3]));
    graph.concat(&[a, b], 0);
}

#[test]
#[should_panic(expected = "reshape: cannot reshape [2, 3] into [4, 2]")]
fn reshape_keeps_the_element_count() {
    let mut graph = Graph::new();
    let a = zeros(&mut graph, &[2, 3]);
    graph.reshape(a, &[4, 2]);
}

//! Automatic differentiation for descent: a reverse-mode graph over ndarray arrays,
//! forward-mode dual numbers, and finite differences to check them.
//!
//! ```
//! use descent_autodiff::Graph;
//! use ndarray::arr2;
//!
//! // loss = mean(tanh(x @ w)); gradients flow to w only.
//! let x = arr2(&[[1.0_f64, 2.0], [3.0, 4.0]]).into_dyn();
//! let w = arr2(&[[0.1_f64], [-0.2]]).into_dyn().into_shared();
//! let mut graph = Graph::new();
//! let (x, w_var) = (graph.constant(x), graph.param(&w));
//! let product = graph.matmul(x, w_var);
//! let activation = graph.tanh(product);
//! let loss = graph.mean(activation);
//! graph.backward(loss);
//! assert_eq!(graph.grad(w_var).unwrap().shape(), &[2, 1]);
//! ```
#![warn(missing_docs)]

pub mod dual;
pub mod finite_difference;
mod float;
mod graph;
mod operand;
mod ops;
pub mod second_order;
mod sugar;
pub mod symbolic;
mod wide;

pub use dual::Dual;
pub use float::{Float, flush_subnormal};
pub use graph::{Graph, Var, same_shape};
pub use operand::Operand;
pub use ops::elementwise::sigmoid;
pub use ops::{Binary, Unary};

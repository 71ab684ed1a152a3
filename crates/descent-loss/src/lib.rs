//! Loss functions for descent, as graph operations with fused, numerically stable
//! forward and backward passes that agree with PyTorch's to the last digits.
//!
//! Each loss is a small serde type holding its hyperparameters and reduction, with
//! an `apply(graph, input, target)` that adds one node to a
//! [`Graph`](descent_autodiff::Graph): its value and its local derivative are computed
//! in one pass, and backward is a single multiply. [`LossConfig`] names any of them,
//! so an experiment file can choose a loss.
//!
//! | loss | input | target | PyTorch |
//! |---|---|---|---|
//! | [`Mse`], [`L1`], [`Huber`], [`SmoothL1`] | any shape | same shape | `mse_loss`, `l1_loss`, `huber_loss`, `smooth_l1_loss` |
//! | [`Bce`] | probabilities | same shape, in `[0, 1]` | `binary_cross_entropy` |
//! | [`BceWithLogits`] | logits | same shape | `binary_cross_entropy_with_logits` |
//! | [`CrossEntropy`] | logits `[N, C]` | `N` class indices | `cross_entropy` |
//! | [`Nll`] | log-probabilities `[N, C]` | `N` class indices | `nll_loss` |
//! | [`MultiMargin`] | scores `[N, C]` | `N` class indices | `multi_margin_loss` |
//! | [`KlDiv`] | log-probabilities | probabilities, same shape | `kl_div` |
//! | [`PoissonNll`] | log-rates | counts, same shape | `poisson_nll_loss` |
//!
//! Targets ([`Target`]) are constants: a graph node, a borrowed array view, or a
//! slice of class indices. A target that does not fit the input is a [`LossError`]
//! naming the loss, both shapes and the offending value; nothing panics on user data.
//!
//! ```
//! use descent_autodiff::Graph;
//! use descent_loss::{CrossEntropy, Reduction};
//! use ndarray::arr2;
//!
//! let logits = arr2(&[[2.0_f64, 0.5, -1.0], [0.1, 0.2, 3.0]]).into_dyn().into_shared();
//! let mut graph = Graph::new();
//! let x = graph.param(&logits);
//! let loss = CrossEntropy::new(Reduction::Mean).apply(&mut graph, x, &[0, 2])?;
//! graph.backward(loss);
//! assert!(graph.scalar(loss) > 0.0);
//! // Each row's gradient is softmax − onehot, over N = 2: it sums to zero.
//! assert!(graph.grad(x).unwrap().sum().abs() < 1e-15);
//!
//! // A class the input does not have is an error, not a panic.
//! let error = CrossEntropy::default().apply(&mut graph, x, &[0, 3]).unwrap_err();
//! assert!(error.to_string().contains("target[1] = 3 is out of range"));
//! # Ok::<(), descent_loss::LossError>(())
//! ```
#![warn(missing_docs)]

mod binary;
mod classification;
mod config;
mod distribution;
mod error;
mod reduction;
mod regression;
mod target;

pub use binary::{Bce, BceWithLogits};
pub use classification::{CrossEntropy, MultiMargin, Nll};
pub use config::LossConfig;
pub use distribution::{KlDiv, KlReduction, PoissonNll};
pub use error::{LossError, Operand};
pub use reduction::Reduction;
pub use regression::{Huber, L1, Mse, SmoothL1};
pub use target::Target;

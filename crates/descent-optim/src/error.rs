//! The one error type of descent-optim, with structured fields.

use thiserror::Error;

/// Everything that can go wrong while building or stepping an optimizer or schedule.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum OptimError {
    /// The number of gradients differs from the number of parameters.
    #[error("{optimizer}: {params} parameters but {grads} gradients")]
    GradCount {
        /// The optimizer's name.
        optimizer: &'static str,
        /// How many parameters were passed.
        params: usize,
        /// How many gradients were passed.
        grads: usize,
    },
    /// A gradient's shape differs from its parameter's.
    #[error(
        "{optimizer}: parameter {index} has shape {param:?} but its gradient has shape {grad:?}"
    )]
    GradShape {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The parameter's position in the list.
        index: usize,
        /// The parameter's shape.
        param: Vec<usize>,
        /// The gradient's shape.
        grad: Vec<usize>,
    },
    /// The parameter list changed length since the state was created.
    #[error("{optimizer}: the state holds {expected} parameters but {got} were passed")]
    ParamCount {
        /// The optimizer's name.
        optimizer: &'static str,
        /// How many parameters the state was created for.
        expected: usize,
        /// How many were passed now.
        got: usize,
    },
    /// A parameter changed shape since the state was created.
    #[error("{optimizer}: parameter {index} had shape {expected:?} but now has shape {got:?}")]
    ParamShape {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The parameter's position in the list.
        index: usize,
        /// The shape the state was created for.
        expected: Vec<usize>,
        /// The shape passed now.
        got: Vec<usize>,
    },
    /// A hyperparameter is outside its valid range.
    #[error("{item}: invalid {name} = {value}: {reason}")]
    InvalidHyperparameter {
        /// The optimizer or schedule.
        item: &'static str,
        /// The hyperparameter's name (PyTorch's).
        name: &'static str,
        /// The offending value.
        value: f64,
        /// What the valid range is.
        reason: &'static str,
    },
    /// A saved state does not fit this optimizer.
    #[error("{optimizer}: cannot restore the state: {reason}")]
    StateMismatch {
        /// The optimizer's name.
        optimizer: &'static str,
        /// What does not fit.
        reason: String,
    },
    /// The loss and gradient closure of a line search or L-BFGS failed or returned
    /// a gradient of the wrong length.
    #[error("{optimizer}: the objective returned {got} gradient entries for {expected} parameters")]
    ObjectiveShape {
        /// The optimizer's name.
        optimizer: &'static str,
        /// The number of parameters.
        expected: usize,
        /// The length of the returned gradient.
        got: usize,
    },
}

//! The update rules, one file each.

pub(crate) mod adadelta;
pub(crate) mod adagrad;
pub(crate) mod adam;
pub(crate) mod adamax;
pub(crate) mod adamw;
pub(crate) mod backtracking;
mod division;
mod flat;
mod fused;
pub(crate) mod lbfgs;
pub(crate) mod nadam;
pub(crate) mod radam;
pub(crate) mod rmsprop;
pub(crate) mod sgd;

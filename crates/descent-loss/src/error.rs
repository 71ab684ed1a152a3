//! The one error type of this crate: what does not fit between a prediction, its
//! target and a loss's hyperparameters.

use thiserror::Error;

/// Why a loss could not be computed. Every variant names the loss (`loss`) and
/// carries the shapes and the offending value, so that the message alone says where
/// and what.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum LossError {
    /// The target's shape differs from the one the input requires.
    #[error(
        "{loss}: the target of shape {target:?} does not fit the input of shape {input:?} \
         (expected a target of shape {expected:?})"
    )]
    ShapeMismatch {
        /// The loss's name.
        loss: &'static str,
        /// The input's (prediction's) shape.
        input: Vec<usize>,
        /// The target's shape.
        target: Vec<usize>,
        /// The target shape the input requires.
        expected: Vec<usize>,
    },
    /// The input's shape is not one this loss accepts (class losses take `[N, C]`).
    #[error(
        "{loss}: the input of shape {input:?} must have shape {expected} (target of shape {target:?})"
    )]
    InputShape {
        /// The loss's name.
        loss: &'static str,
        /// The input's shape.
        input: Vec<usize>,
        /// The target's shape.
        target: Vec<usize>,
        /// The accepted form, such as `"[N, C]"`.
        expected: &'static str,
    },
    /// A class index is not below the number of classes.
    #[error(
        "{loss}: target[{position}] = {class} is out of range for the input of shape {input:?} \
         (classes 0..{classes}); target of shape {target:?}"
    )]
    ClassOutOfRange {
        /// The loss's name.
        loss: &'static str,
        /// The input's shape `[N, C]`.
        input: Vec<usize>,
        /// The target's shape.
        target: Vec<usize>,
        /// The row whose class is out of range.
        position: usize,
        /// The offending class index.
        class: usize,
        /// The number of classes `C`.
        classes: usize,
    },
    /// A real-valued class target is not a non-negative integer.
    #[error(
        "{loss}: target[{position}] = {value} is not a class index (a non-negative integer); \
         input of shape {input:?}, target of shape {target:?}"
    )]
    NotAClass {
        /// The loss's name.
        loss: &'static str,
        /// The input's shape `[N, C]`.
        input: Vec<usize>,
        /// The target's shape.
        target: Vec<usize>,
        /// The row of the offending value.
        position: usize,
        /// The offending value.
        value: f64,
    },
    /// An input or target element lies outside the loss's domain (such as a
    /// probability outside `[0, 1]`).
    #[error(
        "{loss}: {operand}{index:?} = {value} is outside {domain}; input of shape {input:?}, \
         target of shape {target:?}"
    )]
    OutOfDomain {
        /// The loss's name.
        loss: &'static str,
        /// Which operand holds the value.
        operand: Operand,
        /// The offending element's index.
        index: Vec<usize>,
        /// The offending value.
        value: f64,
        /// The allowed values, such as `"[0, 1]"`.
        domain: &'static str,
        /// The input's shape.
        input: Vec<usize>,
        /// The target's shape.
        target: Vec<usize>,
    },
    /// The loss needs real-valued targets but got class indices, or the reverse.
    #[error("{loss}: expected {expected} as the target, got {found}")]
    TargetKind {
        /// The loss's name.
        loss: &'static str,
        /// The kind of target the loss takes.
        expected: &'static str,
        /// The kind of target it was given.
        found: &'static str,
    },
    /// The target is a graph node that asks for a gradient; losses treat targets as
    /// constants, so that gradient would silently be missing.
    #[error(
        "{loss}: the target requires a gradient, but losses treat targets as constants; pass it \
         as a constant (Graph::constant, constant_view or input)"
    )]
    TargetRequiresGrad {
        /// The loss's name.
        loss: &'static str,
    },
    /// A hyperparameter is out of its range.
    #[error("{loss}: {parameter} = {value} is invalid: it must be {expected}")]
    InvalidParameter {
        /// The loss's name.
        loss: &'static str,
        /// The hyperparameter's name.
        parameter: &'static str,
        /// The offending value.
        value: f64,
        /// What the value must be.
        expected: &'static str,
    },
    /// A per-class weight vector does not match the input's last axis.
    #[error(
        "{loss}: {parameter} of length {length} does not fit the input of shape {input:?} \
         (expected length {expected} or 1)"
    )]
    ParameterLength {
        /// The loss's name.
        loss: &'static str,
        /// The hyperparameter's name.
        parameter: &'static str,
        /// Its length.
        length: usize,
        /// The required length: the input's last axis.
        expected: usize,
        /// The input's shape.
        input: Vec<usize>,
    },
}

/// The operand of a loss that an error points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// The prediction.
    Input,
    /// The target.
    Target,
}

impl std::fmt::Display for Operand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Operand::Input => "input",
            Operand::Target => "target",
        })
    }
}

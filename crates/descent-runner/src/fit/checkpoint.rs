//! Checkpoints: everything a run needs to continue bit for bit, written atomically.

use std::path::Path;

use descent_autodiff::Float;
use descent_data::LoaderState;
use descent_nn::SavedParams;
use descent_optim::OptimizerState;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{EarlyState, EpochSums, History};
use crate::FitError;

/// A run's saved state: model, optimizer state, schedule position (the step), data
/// loader position (whose shuffles are a pure function of seed and epoch, so it is the
/// random state too), history and early-stopping state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned"))]
pub struct Checkpoint<T> {
    /// Optimizer steps taken (the schedule's position).
    pub step: u64,
    /// The model's parameters.
    pub params: SavedParams<T>,
    /// The optimizer's state.
    pub optimizer: OptimizerState<T>,
    /// The data loader's position.
    pub loader: LoaderState,
    /// The history so far.
    pub history: History,
    pub(crate) sums: EpochSums,
    pub(crate) early: EarlyState,
    /// The best weights so far, when early stopping keeps them.
    pub best: Option<SavedParams<T>>,
    /// Wall time so far.
    pub seconds: f64,
}

impl<T: Float + Serialize + DeserializeOwned> Checkpoint<T> {
    /// Writes the checkpoint as JSON to `path.tmp` and renames it to `path`, so that
    /// `path` always holds a whole checkpoint. Floats are written in their shortest
    /// round-trip form, so reading gives back the same bits.
    ///
    /// # Errors
    /// [`FitError::Checkpoint`] naming the file.
    pub fn write(&self, path: &Path) -> Result<(), FitError> {
        let fail = |reason: String| FitError::Checkpoint {
            path: path.display().to_string(),
            reason,
        };
        let json = serde_json::to_vec(self).map_err(|e| fail(e.to_string()))?;
        descent_nn::write_atomic(path, &json).map_err(|e| fail(e.to_string()))
    }

    /// Reads a checkpoint written by [`Checkpoint::write`].
    ///
    /// # Errors
    /// [`FitError::Checkpoint`] naming the file and what is wrong with it.
    pub fn read(path: &Path) -> Result<Self, FitError> {
        let fail = |reason: String| FitError::Checkpoint {
            path: path.display().to_string(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))
    }
}

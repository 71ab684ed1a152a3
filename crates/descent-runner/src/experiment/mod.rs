//! Experiments: the TOML file ([`ExperimentSpec`]), its validation with the field and
//! line of every error ([`SpecErrors`]), and its expansion into runs with stable ids
//! ([`RunPlan`]) by grid or random search.
//!
//! ```
//! use descent_runner::experiment::Experiment;
//!
//! let text = r#"
//!     name = "tiny"
//!     budget = { epochs = 2 }
//!     [[problems]]
//!     name = "iris"
//!     dataset = "iris"
//!     loss = { name = "cross_entropy" }
//!     [axes]
//!     optimizers = [{ name = "sgd" }, { name = "adam" }]
//!     learning_rates = [0.01, 0.1]
//!     seeds = [0, 1]
//! "#;
//! let experiment = Experiment::parse(text, "tiny.toml", ".".as_ref())?;
//! assert_eq!(experiment.runs.len(), 8);
//! assert_eq!(experiment.runs[0].label.optimizer, "sgd");
//! # Ok::<(), descent_runner::experiment::SpecErrors>(())
//! ```

mod error;
mod expand;
mod label;
mod spec;
mod validate;

use std::path::{Path, PathBuf};

pub use error::{FieldPath, Segment, SpecError, SpecErrors};
pub use expand::{RunConfig, RunPlan, expand, group_id, run_id};
pub use label::Label;
pub use spec::{
    Axes, Budget, CsvSpec, Distribution, ExperimentSpec, LrAxis, ModelSpec, Precision, ProblemSpec,
    Scale, Search, SearchMode, SplitSpec, TrainingSpec,
};

/// A validated experiment and its runs, in a fixed order.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The file as parsed, defaults filled in.
    pub spec: ExperimentSpec,
    /// The folder relative CSV paths are read from (the file's folder).
    pub base_dir: PathBuf,
    /// Every run, in expansion order (`runs[i].index == i`).
    pub runs: Vec<RunPlan>,
    /// The file's name, as given.
    pub file: String,
    /// The file's text.
    pub text: String,
}

impl Experiment {
    /// Reads, validates and expands an experiment file.
    ///
    /// # Errors
    /// Every problem found, each with its field and line: TOML syntax, unknown or
    /// missing fields, unknown names (with the valid ones), values out of range.
    pub fn load(path: &Path) -> Result<Experiment, SpecErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            SpecErrors(vec![error::Source::whole(
                &file,
                format!("cannot read: {e}"),
            )])
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Experiment::parse(&text, &file, base)
    }

    /// Validates and expands the text of an experiment file named `file`, whose relative
    /// CSV paths are relative to `base_dir`.
    ///
    /// # Errors
    /// As [`Experiment::load`].
    pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<Experiment, SpecErrors> {
        let source = error::Source::new(file, text);
        let spec: ExperimentSpec = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            SpecErrors(vec![source.at_span(span, e.message().trim_end())])
        })?;
        let errors = validate::validate(&spec, &source, base_dir);
        if !errors.is_empty() {
            return Err(SpecErrors(errors));
        }
        let runs = expand(&spec);
        Ok(Experiment {
            spec,
            base_dir: base_dir.to_path_buf(),
            runs,
            file: file.to_string(),
            text: text.to_string(),
        })
    }

    /// The experiment as a resolved TOML file: every default written out.
    pub fn resolved_toml(&self) -> String {
        toml::to_string(&self.spec).unwrap_or_else(|e| format!("# cannot write: {e}\n"))
    }

    /// An error about a field of the file, found after parsing (when its data are
    /// loaded), with the field's line.
    pub fn error_at(&self, path: &FieldPath, message: impl Into<String>) -> SpecError {
        error::Source::new(&self.file, &self.text).at_field(path, message)
    }

    /// The path of a problem's CSV file, relative paths taken from [`Self::base_dir`].
    pub fn csv_path(&self, csv: &CsvSpec) -> PathBuf {
        if csv.path.is_absolute() {
            csv.path.clone()
        } else {
            self.base_dir.join(&csv.path)
        }
    }
}

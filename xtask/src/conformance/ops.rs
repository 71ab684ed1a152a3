//! Conformance cases of the `ops` group (being written).
use anyhow::Result;
use serde_json::Value;

use super::Report;

/// Runs every case of the group.
pub fn run(_file: &Value, _report: &mut Report) -> Result<()> {
    anyhow::bail!("the ops group is not written yet")
}

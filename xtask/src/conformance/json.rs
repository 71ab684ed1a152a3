//! Reading the reference format: floats that may be `"inf"`/`"nan"` strings and
//! tensor objects `{dtype, shape, data}`.

use anyhow::{Context, Result, bail};
use ndarray::{ArrayD, IxDyn};
use serde_json::Value;

/// A float, accepting the strings `"inf"`, `"-inf"` and `"nan"`.
pub fn float(value: &Value) -> Result<f64> {
    match value {
        Value::Number(n) => n.as_f64().context("number out of range"),
        Value::String(s) => match s.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            other => bail!("expected a float, found the string {other:?}"),
        },
        other => bail!("expected a float, found {other}"),
    }
}

/// A field of an object as a float.
pub fn float_field(object: &Value, key: &str) -> Result<f64> {
    float(
        object
            .get(key)
            .with_context(|| format!("missing field `{key}`"))?,
    )
    .with_context(|| format!("in field `{key}`"))
}

/// A bare JSON array of floats.
pub fn floats(value: &Value) -> Result<Vec<f64>> {
    value
        .as_array()
        .context("expected an array of floats")?
        .iter()
        .map(float)
        .collect()
}

/// A tensor object as an f64 array (integer and boolean data converted to 0/1 floats).
pub fn tensor(value: &Value) -> Result<ArrayD<f64>> {
    let shape: Vec<usize> = value
        .get("shape")
        .and_then(Value::as_array)
        .context("tensor without `shape`")?
        .iter()
        .map(|d| {
            d.as_u64()
                .map(|d| d as usize)
                .context("shape entries must be integers")
        })
        .collect::<Result<_>>()?;
    let data: Vec<f64> = value
        .get("data")
        .and_then(Value::as_array)
        .context("tensor without `data`")?
        .iter()
        .map(|v| match v {
            Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
            other => float(other),
        })
        .collect::<Result<_>>()?;
    ArrayD::from_shape_vec(IxDyn(&shape), data).context("tensor data does not fit its shape")
}

/// A tensor object of integers (indices), as `usize`.
pub fn index_tensor(value: &Value) -> Result<ArrayD<usize>> {
    let array = tensor(value)?;
    if array.iter().any(|&v| v < 0.0 || v.fract() != 0.0) {
        bail!("index tensor holds a negative or fractional value");
    }
    Ok(array.mapv(|v| v as usize))
}

/// The tensor's `dtype` field.
pub fn dtype(value: &Value) -> &str {
    value.get("dtype").and_then(Value::as_str).unwrap_or("f64")
}

//! The fast path of the CSV parser: one pass over clean rows, splitting fields and parsing
//! numbers at once. Anything unusual hands the chunk back to the general parser.

use std::collections::HashMap;

use descent_autodiff::Float;

use crate::parse::{Chunk, Layout, Role, class_id, is_missing};

/// Parses a number at the start of `bytes`, returning it and the bytes it used.
fn number<T: Float>(bytes: &[u8]) -> Option<(T, usize)> {
    if std::mem::size_of::<T>() == 4 {
        let (v, used) = fast_float2::parse_partial::<f32, _>(bytes).ok()?;
        Some((T::of(v as f64), used))
    } else {
        let (v, used) = fast_float2::parse_partial::<f64, _>(bytes).ok()?;
        Some((T::of(v), used))
    }
}

/// Parses `data` when every row is clean: the right number of fields, numbers with no
/// surrounding spaces, no quotes, no missing or (unless allowed) non-finite values, no
/// unknown class labels, `\n` or `\r\n` line ends. Returns `None` otherwise, and the
/// general parser then reads the chunk and reports the exact error; on clean rows both
/// give the same result.
pub(crate) fn parse_clean<T: Float>(data: &[u8], layout: &Layout) -> Option<Chunk<T>> {
    let options = layout.options;
    let delimiter = options.delimiter;
    if matches!(delimiter, b'"' | b'\n' | b'\r') {
        return None;
    }
    let roles = &layout.roles;
    let width = roles.len();
    let nf = layout.n_features;
    let guess = data.len() / (width * 8).max(1);
    let mut chunk = Chunk {
        features: Vec::with_capacity(guess * nf),
        real: Vec::with_capacity(if layout.classes { 0 } else { guess }),
        class_ids: Vec::with_capacity(if layout.classes { guess } else { 0 }),
        labels: Vec::new(),
        missing: Vec::new(),
        rows: 0,
    };
    let mut lookup = HashMap::new();
    let n = data.len();
    let mut p = 0;
    while p < n {
        match data[p] {
            b'\n' => {
                p += 1;
                continue;
            }
            b'\r' if data.get(p + 1) == Some(&b'\n') => {
                p += 2;
                continue;
            }
            b'\r' => return None,
            _ => {}
        }
        let base = chunk.features.len();
        chunk.features.resize(base + nf, T::zero());
        for (column, role) in roles.iter().enumerate() {
            let numeric = match role {
                Role::Feature(_) => true,
                Role::Target => !layout.classes,
                Role::Skip => false,
            };
            if numeric {
                let (v, used) = number::<T>(&data[p..])?;
                if !(v.is_finite() || options.allow_non_finite) {
                    return None;
                }
                p += used;
                match role {
                    Role::Feature(j) => chunk.features[base + j] = v,
                    _ => chunk.real.push(v),
                }
            } else {
                let start = p;
                while p < n && !matches!(data[p], b'\n' | b'\r' | b'"') && data[p] != delimiter {
                    p += 1;
                }
                if *role == Role::Target {
                    let label = &data[start..p];
                    if label.trim_ascii().len() != label.len() || is_missing(label, options) {
                        return None;
                    }
                    let known = layout.fixed_classes;
                    if known.is_some_and(|k| !k.iter().any(|k| k.as_bytes() == label)) {
                        return None;
                    }
                    chunk
                        .class_ids
                        .push(class_id(label, &mut chunk.labels, &mut lookup));
                }
            }
            if column + 1 < width {
                if data.get(p) != Some(&delimiter) {
                    return None;
                }
                p += 1;
            } else {
                match data.get(p) {
                    None => {}
                    Some(b'\n') => p += 1,
                    Some(b'\r') if data.get(p + 1) == Some(&b'\n') => p += 2,
                    Some(_) => return None,
                }
            }
        }
        chunk.rows += 1;
    }
    Some(chunk)
}

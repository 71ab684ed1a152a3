//! The CSV data-row parser behind [`crate::load_csv`]: chunks, fields, classes, merging.

use std::collections::HashMap;
use std::path::Path;

use descent_autodiff::Float;
use ndarray::{Array1, Array2};
use rayon::prelude::*;

use crate::csv::{ColumnRef, CsvOptions, MissingPolicy, TargetKind, csv_error, empty};
use crate::dataset::{Dataset, Targets};
use crate::error::{DataError, Result};
use crate::fast::Slot;

/// Below this many data bytes a file is parsed on one thread.
pub(crate) const PARALLEL_MIN_BYTES: usize = 1 << 20;
/// The size chunks aim for when parsing in parallel.
const CHUNK_BYTES: usize = 1 << 20;

/// What each field of a row is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Skip,
    Feature(usize),
    Target,
}

/// Everything a chunk parser needs to know about the file.
pub(crate) struct Layout<'a> {
    file: &'a Path,
    names: Vec<String>,
    pub(crate) roles: Vec<Role>,
    target_column: usize,
    pub(crate) n_features: usize,
    pub(crate) classes: bool,
    pub(crate) fixed_classes: Option<&'a [String]>,
    pub(crate) options: &'a CsvOptions,
}

/// One chunk's rows: features row-major, targets as values or chunk-local class ids, and
/// the chunk's own label dictionary. The fast path writes the rows into the chunk's slot
/// of the output (`in_slot`) and leaves the vectors here empty.
struct Chunk<T> {
    features: Vec<T>,
    real: Vec<T>,
    class_ids: Vec<usize>,
    labels: Vec<Box<[u8]>>,
    missing: Vec<(usize, usize)>,
    rows: usize,
    in_slot: bool,
}

/// The output arrays with each chunk's slot, `capacities[i]` rows for chunk `i`.
struct Placed<T> {
    capacities: Vec<usize>,
    features: Vec<T>,
    real: Vec<T>,
    class_ids: Vec<usize>,
}

/// The value of one numeric field.
enum Value<T> {
    Number(T),
    Missing,
    NotNumber,
    NonFinite,
}

/// The 1-based line of the record that starts at `byte` (skipping the line end that the
/// CSV reader may count as the record's start on CRLF files).
pub(crate) fn line_at(body: &[u8], byte: usize) -> u64 {
    let mut at = byte.min(body.len());
    while at < body.len() && (body[at] == b'\n' || body[at] == b'\r') {
        at += 1;
    }
    memchr::memchr_iter(b'\n', &body[..at]).count() as u64 + 1
}

fn record_byte(record: &csv::ByteRecord) -> usize {
    record.position().map_or(0, |p| p.byte() as usize)
}

fn trim(field: &[u8]) -> &[u8] {
    field.trim_ascii()
}

fn parse_number<T: Float>(field: &[u8]) -> Option<T> {
    if std::mem::size_of::<T>() == 4 {
        fast_float2::parse::<f32, _>(field)
            .ok()
            .map(|v| T::of(v as f64))
    } else {
        fast_float2::parse::<f64, _>(field).ok().map(T::of)
    }
}

fn value<T: Float>(field: &[u8], options: &CsvOptions) -> Value<T> {
    let field = trim(field);
    match parse_number::<T>(field) {
        Some(v) if v.is_finite() || options.allow_non_finite => Value::Number(v),
        Some(_) => Value::NonFinite,
        None if is_missing(field, options) => Value::Missing,
        None => Value::NotNumber,
    }
}

pub(crate) fn is_missing(field: &[u8], options: &CsvOptions) -> bool {
    field.is_empty() || options.missing_tokens.iter().any(|t| t.as_bytes() == field)
}

fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(field).into_owned()
}

/// Checks a header for repeated names.
pub(crate) fn check_duplicates(names: &[String], file: &Path, line: u64) -> Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if let Some(&first) = seen.get(name.as_str()) {
            return Err(DataError::DuplicateColumn {
                file: file.to_path_buf(),
                line,
                column: i + 1,
                first_column: first + 1,
                name: name.clone(),
            });
        }
        seen.insert(name, i);
    }
    Ok(())
}

fn resolve(column: &ColumnRef, names: &[String], file: &Path, line: u64) -> Result<usize> {
    match column {
        ColumnRef::Name(name) => {
            names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| DataError::NoSuchColumn {
                    file: file.to_path_buf(),
                    line,
                    name: name.clone(),
                    available: names.to_vec(),
                })
        }
        ColumnRef::Index(index) if *index < names.len() => Ok(*index),
        ColumnRef::Index(index) => Err(DataError::ColumnOutOfRange {
            file: file.to_path_buf(),
            line,
            index: *index,
            count: names.len(),
        }),
    }
}

fn reader(data: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(data)
}

/// Parses a UTF-8 checked, BOM-stripped, non-blank CSV body into a data set.
pub(crate) fn parse_dataset<T: Float>(
    body: &[u8],
    _bom_len: usize,
    file: &Path,
    options: &CsvOptions,
) -> Result<Dataset<T>> {
    let mut rdr = reader(body, options.delimiter);
    let mut record = csv::ByteRecord::new();
    if !rdr
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(file, e))?
    {
        return Err(empty(file));
    }
    let header_line = line_at(body, record_byte(&record));
    let width = record.len();
    let (names, data_start) = if options.has_header {
        let names: Vec<String> = record.iter().map(|f| text(f).trim().to_string()).collect();
        check_duplicates(&names, file, header_line)?;
        (names, rdr.position().byte() as usize)
    } else {
        let names = (1..=width).map(|i| format!("column_{i}")).collect();
        (names, 0)
    };
    if width < 2 {
        return Err(DataError::FieldCount {
            file: file.to_path_buf(),
            line: header_line,
            expected: 2,
            found: width,
        });
    }

    let target_column = match &options.target {
        Some(column) => resolve(column, &names, file, header_line)?,
        None => width - 1,
    };
    let mut roles = vec![Role::Skip; width];
    roles[target_column] = Role::Target;
    let mut dropped = vec![false; width];
    for column in &options.drop {
        dropped[resolve(column, &names, file, header_line)?] = true;
    }
    let chosen: Vec<usize> = match &options.select {
        Some(columns) => columns
            .iter()
            .map(|c| resolve(c, &names, file, header_line))
            .collect::<Result<_>>()?,
        None => (0..width).collect(),
    };
    let mut n_features = 0;
    for column in chosen {
        if column != target_column && !dropped[column] && roles[column] == Role::Skip {
            roles[column] = Role::Feature(n_features);
            n_features += 1;
        }
    }

    let data = &body[data_start..];
    let classes = match (options.classes.is_some(), options.target_kind) {
        (true, _) | (_, TargetKind::Classes) => true,
        (_, TargetKind::Real) => false,
        (_, TargetKind::Auto) => auto_classes(data, target_column, options),
    };
    let layout = Layout {
        file,
        names,
        roles,
        target_column,
        n_features,
        classes,
        fixed_classes: options.classes.as_deref(),
        options,
    };

    let ranges = chunk_ranges(data);
    // Each chunk gets room in the output for as many rows as it has lines, so that the
    // common clean chunk writes its rows in place and nothing is copied afterwards.
    let scans = maybe_parallel(options.parallel, &ranges, |r| scan(&data[r.clone()]));
    let (ranges, scans) = if ranges.len() > 1 && scans.iter().any(|s| s.quote) {
        // A quoted field may hold a line end, so only the whole file can be split into
        // records.
        let lines = scans.iter().map(|s| s.lines).sum();
        let quote = true;
        (
            std::iter::once(0..data.len()).collect(),
            vec![Scan { lines, quote }],
        )
    } else {
        (ranges, scans)
    };
    // A row that the fast path accepts takes at least `width` bytes with its line end, so
    // a file of blank lines does not make the output huge.
    let capacities: Vec<usize> = ranges
        .iter()
        .zip(&scans)
        .map(|(r, s)| s.lines.min(r.len() / width + 1))
        .collect();
    let total: usize = capacities.iter().sum();
    let d = layout.n_features;
    let mut features = vec![T::zero(); total * d];
    // Advised before the parse writes it, so that its pages are huge as they are made.
    crate::huge_pages::advise(&features);
    let mut real = vec![T::zero(); if layout.classes { 0 } else { total }];
    let mut class_ids = vec![0usize; if layout.classes { total } else { 0 }];
    let mut slots = Vec::with_capacity(ranges.len());
    {
        let (mut f, mut r, mut c) = (
            features.as_mut_slice(),
            real.as_mut_slice(),
            class_ids.as_mut_slice(),
        );
        for (range, &capacity) in ranges.iter().zip(&capacities) {
            let (f_here, f_rest) = f.split_at_mut(capacity * d);
            let (r_here, r_rest) = r.split_at_mut(if layout.classes { 0 } else { capacity });
            let (c_here, c_rest) = c.split_at_mut(if layout.classes { capacity } else { 0 });
            (f, r, c) = (f_rest, r_rest, c_rest);
            let slot = Slot {
                capacity,
                features: f_here,
                real: r_here,
                class_ids: c_here,
            };
            slots.push((range.clone(), slot));
        }
    }
    let parse = |(range, slot): (std::ops::Range<usize>, Slot<'_, T>)| {
        parse_chunk(body, data_start + range.start, &data[range], &layout, slot)
    };
    let parsed: Vec<Result<Chunk<T>>> = if options.parallel && slots.len() > 1 {
        slots.into_par_iter().map(parse).collect()
    } else {
        slots.into_iter().map(parse).collect()
    };
    // The first error in file order wins, whichever thread found it first.
    let chunks = parsed.into_iter().collect::<Result<Vec<_>>>()?;
    let rows: usize = chunks.iter().map(|c| c.rows).sum();
    if rows == 0 {
        if no_records(data, options) {
            return Err(DataError::HeaderOnly {
                file: file.to_path_buf(),
                line: header_line + 1,
            });
        }
        return Err(DataError::InvalidArgument {
            what: format!("rows of {}", file.display()),
            found: "every row was dropped for a missing value".to_string(),
            expected: "at least one complete row".to_string(),
        });
    }
    let placed = Placed {
        capacities,
        features,
        real,
        class_ids,
    };
    merge(chunks, placed, rows, layout)
}

/// Runs `f` on each range, on the rayon pool when `parallel`, and keeps the file order.
fn maybe_parallel<R: Send>(
    parallel: bool,
    ranges: &[std::ops::Range<usize>],
    f: impl Fn(&std::ops::Range<usize>) -> R + Sync + Send,
) -> Vec<R> {
    if parallel && ranges.len() > 1 {
        ranges.par_iter().map(f).collect()
    } else {
        ranges.iter().map(f).collect()
    }
}

/// What a first pass over a chunk found: its lines, and whether it has a quote.
struct Scan {
    lines: usize,
    quote: bool,
}

/// Counts the lines of `data` (a last one without a line end included) and looks for a
/// quote. Written as byte-wise sums over fixed blocks so that the compiler vectorises it:
/// at several bytes a cycle it costs little next to parsing.
fn scan(data: &[u8]) -> Scan {
    const LANES: usize = 32;
    let mut newlines = 0usize;
    let mut quote = false;
    // A u8 lane counter holds at most 255 hits, so each block has 255 groups of lanes.
    for block in data.chunks(255 * LANES) {
        let mut counts = [0u8; LANES];
        let mut quotes = [0u8; LANES];
        let mut groups = block.chunks_exact(LANES);
        for group in &mut groups {
            for i in 0..LANES {
                counts[i] += u8::from(group[i] == b'\n');
                quotes[i] |= u8::from(group[i] == b'"');
            }
        }
        newlines += counts.iter().map(|&c| usize::from(c)).sum::<usize>();
        quote |= quotes.iter().any(|&q| q != 0);
        for &b in groups.remainder() {
            newlines += usize::from(b == b'\n');
            quote |= b == b'"';
        }
    }
    let tail = data.last().is_some_and(|&b| b != b'\n');
    Scan {
        lines: newlines + usize::from(tail),
        quote,
    }
}

/// Whether the data part holds no record at all (only blank lines).
fn no_records(data: &[u8], options: &CsvOptions) -> bool {
    let mut rdr = reader(data, options.delimiter);
    let mut record = csv::ByteRecord::new();
    !matches!(rdr.read_byte_record(&mut record), Ok(true))
}

/// Auto target kind: the first present target value decides.
fn auto_classes(data: &[u8], target: usize, options: &CsvOptions) -> bool {
    let mut rdr = reader(data, options.delimiter);
    let mut record = csv::ByteRecord::new();
    while let Ok(true) = rdr.read_byte_record(&mut record) {
        if let Some(field) = record.get(target) {
            let field = trim(field);
            if !is_missing(field, options) {
                return parse_number::<f64>(field).is_none();
            }
        }
    }
    false
}

/// Splits the data part at line ends into chunks of about [`CHUNK_BYTES`], unless it is
/// small. The split does not depend on the number of threads, so neither does the result.
pub(crate) fn chunk_ranges(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    if data.len() < PARALLEL_MIN_BYTES {
        return std::iter::once(0..data.len()).collect();
    }
    let mut ranges = Vec::with_capacity(data.len() / CHUNK_BYTES + 1);
    let mut start = 0;
    while start < data.len() {
        let aim = (start + CHUNK_BYTES).min(data.len());
        let end = match memchr::memchr(b'\n', &data[aim..]) {
            Some(i) => aim + i + 1,
            None => data.len(),
        };
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Parses the rows of `data`, which starts at byte `offset` of `body` (for line numbers).
fn parse_chunk<T: Float>(
    body: &[u8],
    offset: usize,
    data: &[u8],
    layout: &Layout,
    slot: Slot<'_, T>,
) -> Result<Chunk<T>> {
    let mut labels = Vec::new();
    if let Some(rows) = crate::fast::parse_clean(data, layout, slot, &mut labels) {
        return Ok(Chunk {
            features: Vec::new(),
            real: Vec::new(),
            class_ids: Vec::new(),
            labels,
            missing: Vec::new(),
            rows,
            in_slot: true,
        });
    }
    let options = layout.options;
    let width = layout.roles.len();
    let guess = data.len() / (width * 8).max(1);
    let mut chunk = Chunk {
        features: Vec::with_capacity(guess * layout.n_features),
        real: Vec::with_capacity(if layout.classes { 0 } else { guess }),
        class_ids: Vec::with_capacity(if layout.classes { guess } else { 0 }),
        labels: Vec::new(),
        missing: Vec::new(),
        rows: 0,
        in_slot: false,
    };
    let mut lookup: HashMap<Box<[u8]>, u32> = HashMap::new();
    let mut rdr = reader(data, options.delimiter);
    let mut record = csv::ByteRecord::new();
    let file = layout.file;
    while rdr
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(file, e))?
    {
        let start = offset + record_byte(&record);
        let line = || line_at(body, start);
        if record.len() != width {
            return Err(DataError::FieldCount {
                file: file.to_path_buf(),
                line: line(),
                expected: width,
                found: record.len(),
            });
        }
        let base = chunk.features.len();
        chunk.features.resize(base + layout.n_features, T::zero());
        let mut drop_row = false;
        let missing_before = chunk.missing.len();
        for (column, field) in record.iter().enumerate() {
            let role = layout.roles[column];
            if role == Role::Skip {
                continue;
            }
            let at = |what: &str| (what.to_string(), column + 1, layout.names[column].clone());
            if role == Role::Target && layout.classes {
                let label = trim(field);
                if is_missing(label, options) {
                    match options.missing {
                        MissingPolicy::DropRow => drop_row = true,
                        _ => return Err(missing(file, line(), at(""), field, "a class label")),
                    }
                    continue;
                }
                let id = class_id(label, &mut chunk.labels, &mut lookup);
                let known = layout.fixed_classes.unwrap_or_default();
                if layout.fixed_classes.is_some() && !known.iter().any(|k| k.as_bytes() == label) {
                    return Err(DataError::UnknownClass {
                        file: file.to_path_buf(),
                        line: line(),
                        column: column + 1,
                        field: layout.names[column].clone(),
                        label: text(label),
                        known: known.to_vec(),
                    });
                }
                chunk.class_ids.push(id as usize);
                continue;
            }
            let v = match value::<T>(field, options) {
                Value::Number(v) => v,
                Value::Missing => {
                    match (options.missing, role) {
                        (MissingPolicy::DropRow, _) => drop_row = true,
                        (MissingPolicy::FillMean, Role::Feature(j)) => {
                            chunk.missing.push((chunk.rows, j))
                        }
                        (MissingPolicy::FillMean, _) => {
                            return Err(missing(file, line(), at(""), field, "a target value"));
                        }
                        (MissingPolicy::Error, _) => {
                            return Err(missing(file, line(), at(""), field, "a number"));
                        }
                    }
                    T::zero()
                }
                Value::NotNumber => {
                    return Err(DataError::NotANumber {
                        file: file.to_path_buf(),
                        line: line(),
                        column: column + 1,
                        field: layout.names[column].clone(),
                        value: text(field),
                        expected: if role == Role::Target {
                            "a number (the target column holds real values; load it as \
                             classes to use labels)"
                                .to_string()
                        } else {
                            "a number (feature columns must be numeric)".to_string()
                        },
                    });
                }
                Value::NonFinite => {
                    return Err(DataError::NonFinite {
                        file: file.to_path_buf(),
                        line: line(),
                        column: column + 1,
                        field: layout.names[column].clone(),
                        value: text(field),
                    });
                }
            };
            match role {
                Role::Feature(j) => chunk.features[base + j] = v,
                _ => chunk.real.push(v),
            }
        }
        if drop_row {
            chunk.features.truncate(base);
            chunk.missing.truncate(missing_before);
            let targets = chunk.rows;
            chunk.real.truncate(targets);
            chunk.class_ids.truncate(targets);
        } else {
            chunk.rows += 1;
        }
    }
    Ok(chunk)
}

fn missing(
    file: &Path,
    line: u64,
    at: (String, usize, String),
    field: &[u8],
    expected: &str,
) -> DataError {
    DataError::Missing {
        file: file.to_path_buf(),
        line,
        column: at.1,
        field: at.2,
        value: text(field),
        expected: format!(
            "{expected} (missing values are errors unless the policy says otherwise)"
        ),
    }
}

/// The chunk-local id of a label, adding it when new.
pub(crate) fn class_id(
    label: &[u8],
    labels: &mut Vec<Box<[u8]>>,
    lookup: &mut HashMap<Box<[u8]>, u32>,
) -> u32 {
    if labels.len() <= 32 {
        if let Some(i) = labels.iter().position(|l| &**l == label) {
            return i as u32;
        }
    } else if let Some(&i) = lookup.get(label) {
        return i;
    }
    let id = labels.len() as u32;
    labels.push(label.into());
    if labels.len() > 32 {
        if lookup.is_empty() {
            for (i, l) in labels.iter().enumerate() {
                lookup.insert(l.clone(), i as u32);
            }
        } else {
            lookup.insert(label.into(), id);
        }
    }
    id
}

/// The class names in their documented order: numeric when all labels are numbers,
/// byte order otherwise.
fn order_labels(labels: &mut [Box<[u8]>]) {
    let numbers: Option<Vec<f64>> = labels.iter().map(|l| parse_number::<f64>(l)).collect();
    match numbers {
        Some(_) => labels.sort_by(|a, b| {
            let (x, y) = (
                parse_number::<f64>(a).unwrap_or(0.0),
                parse_number::<f64>(b).unwrap_or(0.0),
            );
            x.total_cmp(&y).then_with(|| a.cmp(b))
        }),
        None => labels.sort(),
    }
}

fn merge<T: Float>(
    mut chunks: Vec<Chunk<T>>,
    placed: Placed<T>,
    rows: usize,
    layout: Layout,
) -> Result<Dataset<T>> {
    let d = layout.n_features;
    let mut missing = Vec::new();
    let mut offset = 0;
    for chunk in &chunks {
        missing.extend(chunk.missing.iter().map(|&(r, j)| (r + offset, j)));
        offset += chunk.rows;
    }
    let parts = |take: fn(&mut Chunk<T>) -> Vec<T>, chunks: &mut [Chunk<T>]| -> Vec<Part<T>> {
        chunks
            .iter_mut()
            .zip(&placed.capacities)
            .map(|(c, &capacity)| Part {
                capacity,
                rows: c.rows,
                own: (!c.in_slot).then(|| take(c)),
            })
            .collect()
    };
    let feature_parts = parts(|c| std::mem::take(&mut c.features), &mut chunks);
    let mut features = gather(placed.features, d, feature_parts);
    if !missing.is_empty() {
        fill_means(&mut features, d, rows, &missing);
    }
    let targets = if layout.classes {
        let names_bytes: Vec<Box<[u8]>> = match layout.fixed_classes {
            Some(known) => known.iter().map(|k| k.as_bytes().into()).collect(),
            None => {
                let mut all: Vec<Box<[u8]>> = chunks
                    .iter()
                    .flat_map(|c| c.labels.iter().cloned())
                    .collect();
                all.sort();
                all.dedup();
                order_labels(&mut all);
                all
            }
        };
        let index: HashMap<&[u8], usize> = names_bytes
            .iter()
            .enumerate()
            .map(|(i, n)| (&**n, i))
            .collect();
        let id_parts: Vec<Part<usize>> = chunks
            .iter_mut()
            .zip(&placed.capacities)
            .map(|(c, &capacity)| Part {
                capacity,
                rows: c.rows,
                own: (!c.in_slot).then(|| std::mem::take(&mut c.class_ids)),
            })
            .collect();
        let mut indices = gather(placed.class_ids, 1, id_parts);
        // Chunk-local ids to the global order, chunk by chunk.
        let mut rest = indices.as_mut_slice();
        let mut work = Vec::with_capacity(chunks.len());
        for chunk in &chunks {
            let (here, tail) = rest.split_at_mut(chunk.rows);
            rest = tail;
            let remap: Vec<usize> = chunk.labels.iter().map(|l| index[&**l]).collect();
            work.push((here, remap));
        }
        let apply = |(ids, remap): (&mut [usize], Vec<usize>)| {
            for id in ids {
                *id = remap[*id];
            }
        };
        if layout.options.parallel && work.len() > 1 {
            work.into_par_iter().for_each(apply);
        } else {
            work.into_iter().for_each(apply);
        }
        Targets::Classes {
            indices: Array1::from(indices),
            names: names_bytes.iter().map(|n| text(n)).collect(),
        }
    } else {
        let real_parts = parts(|c| std::mem::take(&mut c.real), &mut chunks);
        Targets::Real(Array1::from(gather(placed.real, 1, real_parts)))
    };
    let features = Array2::from_shape_vec((rows, d), features).expect("rows × features values");
    let mut feature_names = vec![String::new(); d];
    for (column, role) in layout.roles.iter().enumerate() {
        if let Role::Feature(j) = role {
            feature_names[*j] = layout.names[column].clone();
        }
    }
    let target_name = layout.names[layout.target_column].clone();
    Dataset::new(features, targets, feature_names, target_name)
}

/// One chunk's share of an output array: the rows its slot has room for, the rows it
/// has, and its own values when the general parser read it (not in the slot).
struct Part<E> {
    capacity: usize,
    rows: usize,
    own: Option<Vec<E>>,
}

/// Puts the chunks' rows (`width` values each) one after another, starting from `slots`,
/// where chunk `i`'s slot starts after the capacities of the chunks before it.
fn gather<E: Copy>(mut slots: Vec<E>, width: usize, mut parts: Vec<Part<E>>) -> Vec<E> {
    if parts.len() == 1
        && let Some(own) = parts[0].own.take()
    {
        return own;
    }
    if parts.iter().all(|p| p.rows <= p.capacity) {
        // In place: every chunk moves down (or stays), never past its own slot's end, so
        // it overwrites nothing that is still to be moved.
        let (mut write, mut slot) = (0, 0);
        for part in &parts {
            let n = part.rows * width;
            match &part.own {
                Some(own) => slots[write..write + n].copy_from_slice(own),
                None if write != slot => slots.copy_within(slot..slot + n, write),
                None => {}
            }
            write += n;
            slot += part.capacity * width;
        }
        slots.truncate(write);
        return slots;
    }
    // The general parser found more rows than lines in some chunk (lone `\r` line ends).
    let total = parts.iter().map(|p| p.rows * width).sum();
    let mut all = Vec::with_capacity(total);
    let mut slot = 0;
    for part in &parts {
        match &part.own {
            Some(own) => all.extend_from_slice(own),
            None => all.extend_from_slice(&slots[slot..slot + part.rows * width]),
        }
        slot += part.capacity * width;
    }
    all
}

/// Replaces each missing cell (currently zero) with its column's mean over present cells.
fn fill_means<T: Float>(features: &mut [T], d: usize, rows: usize, missing: &[(usize, usize)]) {
    let mut sums = vec![0.0f64; d];
    for row in features.chunks_exact(d) {
        for (s, v) in sums.iter_mut().zip(row) {
            *s += v.as_f64();
        }
    }
    let mut absent = vec![0usize; d];
    for &(_, j) in missing {
        absent[j] += 1;
    }
    for &(r, j) in missing {
        let present = rows - absent[j];
        let mean = if present == 0 {
            0.0
        } else {
            sums[j] / present as f64
        };
        features[r * d + j] = T::of(mean);
    }
}

//! Errors in an experiment file, each with the field and the line it is about.

use std::fmt;
use std::ops::Range;

use toml::de::{DeArray, DeTable, DeValue};

/// One problem in an experiment file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The file (as given).
    pub file: String,
    /// The line, from 1 (0 when unknown: the file could not be read).
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
    /// The field, as a path (`axes.optimizers[1].name`); empty for the file as a whole.
    pub field: String,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.field.is_empty()) {
            (0, _) => write!(f, "{}: {}", self.file, self.message),
            (_, true) => write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            ),
            (_, false) => write!(
                f,
                "{}:{}:{}: `{}`: {}",
                self.file, self.line, self.column, self.field, self.message
            ),
        }
    }
}

/// Every problem found in an experiment file (at least one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// A path into the document: keys and array indices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

/// One step of a [`FieldPath`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

impl FieldPath {
    /// The path of a top-level key.
    pub fn root(key: &str) -> Self {
        FieldPath(vec![Segment::Key(key.to_string())])
    }

    /// This path with a key appended.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.to_string()));
        p
    }

    /// This path with an index appended.
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(i));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// The text of an experiment file with its parsed, spanned tree, to turn byte offsets
/// into fields and lines and fields into lines.
pub struct Source<'t> {
    file: String,
    text: &'t str,
    tree: Option<toml::Spanned<DeTable<'t>>>,
}

impl<'t> Source<'t> {
    /// Parses `text` (a TOML syntax error is reported later by serde, with its span).
    pub fn new(file: &str, text: &'t str) -> Self {
        Source {
            file: file.to_string(),
            text,
            tree: DeTable::parse(text).ok(),
        }
    }

    /// Line and column (from 1) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
            before[nl + 1..].chars().count()
        }) + 1;
        (line, column)
    }

    /// An error about the byte range `span`: the field is the deepest key or element
    /// whose value contains it.
    pub fn at_span(&self, span: Range<usize>, message: &str) -> SpecError {
        let mut path = FieldPath::default();
        let mut start = span.start;
        if let Some(tree) = &self.tree {
            deepest_table(tree.get_ref(), &span, &mut path);
            // serde points an unknown field at its whole table (or the array holding
            // it): find the key itself.
            if let Some(name) = message
                .strip_prefix("unknown field `")
                .and_then(|m| m.split('`').next())
            {
                let mut all = Vec::new();
                flatten(tree.get_ref(), &FieldPath::default(), &mut all);
                if let Some((p, k, _)) = all.iter().find(|(p, k, _)| {
                    contains(&span, k)
                        && p.0.starts_with(&path.0)
                        && p.0.last() == Some(&Segment::Key(name.to_string()))
                }) {
                    path = p.clone();
                    start = k.start;
                }
            }
        }
        let (line, column) = self.line_col(start);
        SpecError {
            file: self.file.clone(),
            line,
            column,
            field: path.to_string(),
            message: message.to_string(),
        }
    }

    /// An error about a field: its line is the field's key (or the nearest parent that
    /// is written in the file).
    pub fn at_field(&self, path: &FieldPath, message: impl Into<String>) -> SpecError {
        let span = self
            .tree
            .as_ref()
            .and_then(|t| find(t.get_ref(), &path.0))
            .unwrap_or(0..0);
        let (line, column) = self.line_col(span.start);
        SpecError {
            file: self.file.clone(),
            line,
            column,
            field: path.to_string(),
            message: message.into(),
        }
    }

    /// An error about the file as a whole (unreadable).
    pub fn whole(file: &str, message: impl Into<String>) -> SpecError {
        SpecError {
            file: file.to_string(),
            line: 0,
            column: 0,
            field: String::new(),
            message: message.into(),
        }
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}

/// Every key and array element of the document with its path, key span and value span.
fn flatten(
    table: &DeTable<'_>,
    path: &FieldPath,
    out: &mut Vec<(FieldPath, Range<usize>, Range<usize>)>,
) {
    for (key, value) in table.iter() {
        let p = path.key(key.get_ref());
        out.push((p.clone(), key.span(), value.span()));
        flatten_value(value.get_ref(), &p, out);
    }
}

fn flatten_value(
    value: &DeValue<'_>,
    path: &FieldPath,
    out: &mut Vec<(FieldPath, Range<usize>, Range<usize>)>,
) {
    match value {
        DeValue::Table(t) => flatten(t, path, out),
        DeValue::Array(a) => flatten_array(a, path, out),
        _ => {}
    }
}

fn flatten_array(
    array: &DeArray<'_>,
    path: &FieldPath,
    out: &mut Vec<(FieldPath, Range<usize>, Range<usize>)>,
) {
    for (i, value) in array.iter().enumerate() {
        let p = path.index(i);
        out.push((p.clone(), value.span(), value.span()));
        flatten_value(value.get_ref(), &p, out);
    }
}

/// The field an error span is about: the deepest entry whose key or value contains it,
/// else the last key before it (a table written with a `[header]`).
fn deepest_table(table: &DeTable<'_>, span: &Range<usize>, path: &mut FieldPath) {
    let mut all = Vec::new();
    flatten(table, &FieldPath::default(), &mut all);
    let containing = all
        .iter()
        .filter(|(_, k, v)| contains(k, span) || contains(v, span))
        .max_by_key(|(p, k, _)| (p.0.len(), k.start));
    let found = containing.or_else(|| {
        all.iter()
            .filter(|(_, k, _)| k.start <= span.start)
            .max_by_key(|(p, k, _)| (k.start, p.0.len()))
    });
    if let Some((p, _, _)) = found {
        *path = p.clone();
    }
}

/// The span of the key (for a table entry) or value (for an array element) at `path`,
/// or of the deepest existing parent.
fn find(table: &DeTable<'_>, path: &[Segment]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    let Segment::Key(k) = first else { return None };
    let (key, value) = table.iter().find(|(key, _)| key.get_ref() == k)?;
    Some(find_in(value, rest).unwrap_or_else(|| key.span()))
}

fn find_in(value: &toml::Spanned<DeValue<'_>>, path: &[Segment]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    match (value.get_ref(), first) {
        (DeValue::Table(t), Segment::Key(k)) => {
            let (key, inner) = t.iter().find(|(key, _)| key.get_ref() == k)?;
            Some(find_in(inner, rest).unwrap_or_else(|| key.span()))
        }
        (DeValue::Array(a), Segment::Index(i)) => {
            let inner = a.get(*i)?;
            Some(find_in(inner, rest).unwrap_or_else(|| inner.span()))
        }
        _ => None,
    }
}

//! Problems found in a scenario file, located by file, line, column and field.

use std::fmt;

/// One step of a field path: `failures[0].target` is Key, Index, Key.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path to a field inside the scenario document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    pub fn key(&self, k: &str) -> FieldPath {
        let mut v = self.0.clone();
        v.push(Segment::Key(k.to_string()));
        FieldPath(v)
    }

    pub fn index(&self, i: usize) -> FieldPath {
        let mut v = self.0.clone();
        v.push(Segment::Index(i));
        FieldPath(v)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
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

/// One thing wrong with the scenario.
#[derive(Clone, Debug)]
pub struct Problem {
    pub path: FieldPath,
    pub message: String,
    /// 1-based line and column, when the field could be located in the text.
    pub location: Option<(usize, usize)>,
}

impl Problem {
    pub fn new(path: FieldPath, message: impl Into<String>) -> Problem {
        Problem {
            path,
            message: message.into(),
            location: None,
        }
    }
}

/// Everything wrong with one scenario file.
#[derive(Debug)]
pub struct ScenarioError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{} has {} problem{}",
            self.file,
            n,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            match p.location {
                Some((line, col)) => write!(
                    f,
                    "\n  {}:{}:{}: {}: {}",
                    self.file, line, col, p.path, p.message
                )?,
                None => write!(f, "\n  {}: {}: {}", self.file, p.path, p.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// 1-based (line, column) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Finds the byte span of the value at `path` in a TOML document, walking as deep
/// as the path exists (so a missing field points at its parent table).
pub fn locate(text: &str, path: &FieldPath) -> Option<std::ops::Range<usize>> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut span = root.span();
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut array: Option<&toml::de::DeArray> = None;
    for seg in &path.0 {
        let value = match (seg, table, array) {
            (Segment::Key(k), Some(t), _) => t.get(k.as_str()),
            (Segment::Index(i), _, Some(a)) => a.get(*i),
            _ => None,
        };
        let Some(value) = value else { break };
        span = value.span();
        table = None;
        array = None;
        match value.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    Some(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_fields() {
        let text = "name = \"x\"\n\n[[failures]]\nkind = \"a\"\n\n[[failures]]\ntarget = \"dc9\"\n";
        let path = FieldPath::root().key("failures").index(1).key("target");
        let span = locate(text, &path).unwrap();
        assert_eq!(line_column(text, span.start), (7, 10));
        assert_eq!(path.to_string(), "failures[1].target");
    }
}

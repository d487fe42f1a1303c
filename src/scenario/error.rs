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

/// The closest candidate to a misspelt `word`, if one is close enough: at
/// most a third of its characters edited (Levenshtein distance), ties to
/// the first candidate. Case and `-`/`_` mix-ups count as one edit each.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word || c.is_empty() {
            continue;
        }
        let d = strsim::levenshtein(word, c);
        let longest = word.chars().count().max(c.chars().count());
        if d * 3 <= longest && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// A "did you mean" hint for a problem message that names something unknown:
/// serde's `unknown field `x`, expected one of `a`, `b`` and `unknown variant`
/// errors (the candidates are the quoted names after "expected"), and the
/// validator's `unknown datacenter "x"; known datacenters: a, b` messages
/// (the candidates are the comma-separated list after the last colon).
pub fn did_you_mean(message: &str) -> Option<String> {
    for marker in ["unknown field `", "unknown variant `"] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            let end = rest.find('`')?;
            let word = &rest[..end];
            let expected = rest[end + 1..].split_once("expected")?.1;
            let candidates = expected.split('`').skip(1).step_by(2);
            return closest(word, candidates).map(|c| format!("did you mean `{c}`?"));
        }
    }
    let rest = message.strip_prefix("unknown ")?;
    let (_, quoted) = rest.split_once('"')?;
    let (word, tail) = quoted.split_once('"')?;
    let (_, list) = tail.rsplit_once(": ")?;
    let candidates = list.split(", ").map(str::trim);
    closest(word, candidates).map(|c| format!("did you mean \"{c}\"?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_name() {
        let serde_field = "unknown field `intervall`, expected one of `mode`, `acks`, `shipping`, `interval`, `ack_size`";
        assert_eq!(
            did_you_mean(serde_field).as_deref(),
            Some("did you mean `interval`?")
        );
        let variant = "unknown variant `active-pasive`, expected one of `active-passive`, `active-active`, `hybrid`";
        assert_eq!(
            did_you_mean(variant).as_deref(),
            Some("did you mean `active-passive`?")
        );
        let two = "unknown variant `Manual`, expected `automatic` or `manual`";
        assert_eq!(did_you_mean(two).as_deref(), Some("did you mean `manual`?"));
        let site = "unknown datacenter \"us-eats-1\"; known datacenters: us-east-1, eu-west-1";
        assert_eq!(
            did_you_mean(site).as_deref(),
            Some("did you mean \"us-east-1\"?")
        );
        // Nothing close: no guess.
        let far = "unknown field `colour`, expected one of `mode`, `acks`, `shipping`";
        assert_eq!(did_you_mean(far), None);
        assert_eq!(did_you_mean("unknown field `x`, there are no fields"), None);
        assert_eq!(did_you_mean("must be > 0"), None);
        assert_eq!(closest("at", ["ttl", "mode"]), None);
        assert_eq!(
            closest("health-check", ["health_check", "dns"]),
            Some("health_check")
        );
    }

    #[test]
    fn locates_nested_fields() {
        let text = "name = \"x\"\n\n[[failures]]\nkind = \"a\"\n\n[[failures]]\ntarget = \"dc9\"\n";
        let path = FieldPath::root().key("failures").index(1).key("target");
        let span = locate(text, &path).unwrap();
        assert_eq!(line_column(text, span.start), (7, 10));
        assert_eq!(path.to_string(), "failures[1].target");
    }
}

//! The boundary between files and the model: read a scenario file, parse it,
//! validate it, and report every problem with file, line, column and field.

pub mod error;
pub mod lint;
pub mod raw;
pub mod units;
pub mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::model::Scenario;
pub use error::{FieldPath, Problem, ScenarioError, Segment};

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        problems: vec![Problem::new(
            FieldPath::root(),
            format!("cannot read the file: {e}"),
        )],
    })?;
    parse(&file, &text)
}

/// Parses and validates scenario text; `file` names it in error messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let fail = |problems: Vec<Problem>| ScenarioError {
        file: file.to_string(),
        problems,
    };
    let raw: raw::RawScenario = {
        let de = toml::Deserializer::parse(text)
            .map_err(|e| fail(vec![toml_problem(text, FieldPath::root(), &e)]))?;
        match serde_path_to_error::deserialize(de) {
            Ok(raw) => raw,
            Err(e) => {
                let path = convert_path(e.path());
                return Err(fail(vec![toml_problem(text, path, e.inner())]));
            }
        }
    };
    let hash: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    validate::validate(&raw, hash).map_err(|mut problems| {
        for p in &mut problems {
            p.location =
                error::locate(text, &p.path).map(|span| error::line_column(text, span.start));
            with_suggestion(&mut p.message);
        }
        fail(problems)
    })
}

/// A serde/TOML error as a problem: toml's own span when it has one, else the field's.
fn toml_problem(text: &str, path: FieldPath, e: &toml::de::Error) -> Problem {
    let span = e.span().or_else(|| error::locate(text, &path));
    let mut message = e.message().trim().replace('\n', " ");
    with_suggestion(&mut message);
    Problem {
        path,
        message,
        location: span.map(|s| error::line_column(text, s.start)),
    }
}

/// Appends "; did you mean `x`?" to a message about a misspelt name.
fn with_suggestion(message: &mut String) {
    if let Some(hint) = error::did_you_mean(message) {
        message.push_str("; ");
        message.push_str(&hint);
    }
}

fn convert_path(p: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment as S;
    FieldPath(
        p.iter()
            .filter_map(|s| match s {
                S::Seq { index } => Some(Segment::Index(*index)),
                S::Map { key } => Some(Segment::Key(key.clone())),
                S::Enum { variant } => Some(Segment::Key(variant.clone())),
                S::Unknown => None,
            })
            .collect(),
    )
}

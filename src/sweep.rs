//! Parameter sweeps: parse `PATH=VALUES` specs, build the cartesian grid, and
//! produce the scenario of each grid point by editing the TOML document and
//! running it through the normal loader (so every point is validated like a
//! file a user wrote).

use std::fmt;

use crate::model::Scenario;
use crate::scenario::{self, units};

/// At most this many grid points in one sweep.
pub const MAX_POINTS: usize = 10_000;
/// At most this many values for one parameter range.
pub const MAX_STEPS: usize = 1_000;

/// One swept parameter: where it lives in the file and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub path: String,
    pub values: Vec<Value>,
    /// The range was logarithmic: plot it on a log axis.
    pub log: bool,
}

/// A value as it is written into the scenario, plus its number for plots.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub text: String,
    pub toml: toml::Value,
    /// In base units (seconds for durations); `None` for non-numeric values.
    pub number: Option<f64>,
}

#[derive(Debug, PartialEq)]
pub struct SweepError(pub String);

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SweepError {}

fn err<T>(msg: impl Into<String>) -> Result<T, SweepError> {
    Err(SweepError(msg.into()))
}

const SPEC_HELP: &str = "write PATH=VALUES with VALUES a list (\"5s,10s,30s\") or a range FROM..TO:lin|log:COUNT (\"0.1s..10s:log:12\", \"1..5:lin:5\")";

/// Parses "replication.interval=0.1s..10s:log:12".
pub fn parse_spec(spec: &str) -> Result<Param, SweepError> {
    let Some((path, values)) = spec.split_once('=') else {
        return err(format!("bad --param \"{spec}\": {SPEC_HELP}"));
    };
    parse_values(path.trim(), values.trim())
}

pub fn parse_values(path: &str, values: &str) -> Result<Param, SweepError> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return err(format!(
            "bad parameter path \"{path}\": use dotted field names such as failover.health_check.interval"
        ));
    }
    if values.is_empty() {
        return err(format!("{path}: no values given; {SPEC_HELP}"));
    }
    if let Some((range, rest)) = values.split_once(':').filter(|_| values.contains("..")) {
        let (scale, count) = rest.split_once(':').unwrap_or((rest, ""));
        let log = match scale {
            "log" => true,
            "lin" => false,
            other => {
                return err(format!(
                    "{path}: unknown scale \"{other}\" in \"{values}\": use lin or log"
                ));
            }
        };
        let count: usize = count
            .parse()
            .map_err(|_| SweepError(format!("{path}: bad count in \"{values}\": {SPEC_HELP}")))?;
        if count == 0 {
            return err(format!(
                "{path}: empty range \"{values}\": the count must be at least 1"
            ));
        }
        if count > MAX_STEPS {
            return err(format!(
                "{path}: {count} values is more than the limit of {MAX_STEPS}"
            ));
        }
        let Some((from, to)) = range.split_once("..") else {
            return err(format!("{path}: bad range \"{values}\": {SPEC_HELP}"));
        };
        let (a, unit_a) = number_and_unit(from)
            .ok_or_else(|| SweepError(format!("{path}: bad number \"{from}\"")))?;
        let (b, unit_b) = number_and_unit(to)
            .ok_or_else(|| SweepError(format!("{path}: bad number \"{to}\"")))?;
        if unit_a != unit_b {
            return err(format!(
                "{path}: both ends of \"{values}\" need the same unit (\"{unit_a}\" vs \"{unit_b}\")"
            ));
        }
        if log && (a <= 0.0 || b <= 0.0) {
            return err(format!(
                "{path}: a log range cannot reach zero or below (\"{values}\"); use lin, or start above zero"
            ));
        }
        if count > 1 && a == b {
            return err(format!(
                "{path}: empty range \"{values}\": the ends are equal"
            ));
        }
        let integral = unit_a.is_empty() && !from.contains('.') && !to.contains('.') && !log;
        let points: Vec<f64> = (0..count)
            .map(|i| {
                let t = if count == 1 {
                    0.0
                } else {
                    i as f64 / (count - 1) as f64
                };
                if log {
                    a * (b / a).powf(t)
                } else {
                    a + (b - a) * t
                }
            })
            .collect();
        let values = points
            .into_iter()
            .map(|x| number_value(x, &unit_a, integral && (x - x.round()).abs() < 1e-9))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SweepError(format!("{path}: {e}")))?;
        return Ok(Param {
            path: path.to_string(),
            values,
            log,
        });
    }
    let mut out = Vec::new();
    for item in values.split(',').map(str::trim) {
        if item.is_empty() {
            return err(format!("{path}: empty item in list \"{values}\""));
        }
        out.push(list_value(item).map_err(|e| SweepError(format!("{path}: {e}")))?);
    }
    Ok(Param {
        path: path.to_string(),
        values: out,
        log: false,
    })
}

fn number_and_unit(s: &str) -> Option<(f64, String)> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(end);
    let v: f64 = n.parse().ok()?;
    v.is_finite().then(|| (v, unit.trim().to_string()))
}

/// Formats a number with up to 6 significant digits, no trailing zeros.
fn compact(x: f64) -> String {
    let s = format!(
        "{:.*}",
        6usize.saturating_sub((x.abs().log10().floor().max(0.0)) as usize),
        x
    );
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn number_value(x: f64, unit: &str, integer: bool) -> Result<Value, String> {
    if unit.is_empty() {
        return Ok(if integer {
            Value {
                text: format!("{}", x.round() as i64),
                toml: toml::Value::Integer(x.round() as i64),
                number: Some(x),
            }
        } else {
            Value {
                text: compact(x),
                toml: toml::Value::Float(x),
                number: Some(x),
            }
        });
    }
    let text = format!("{}{unit}", compact(x));
    let number = base_units(&text);
    Ok(Value {
        toml: toml::Value::String(text.clone()),
        text,
        number,
    })
}

/// Seconds for a duration, bytes, bps or per-second for other units.
fn base_units(text: &str) -> Option<f64> {
    units::parse_duration(text)
        .or_else(|_| units::parse_size(text))
        .or_else(|_| units::parse_bandwidth(text))
        .or_else(|_| units::parse_rate(text))
        .ok()
}

fn list_value(item: &str) -> Result<Value, String> {
    if let Ok(i) = item.parse::<i64>() {
        return Ok(Value {
            text: item.into(),
            toml: toml::Value::Integer(i),
            number: Some(i as f64),
        });
    }
    if let Ok(f) = item.parse::<f64>() {
        return Ok(Value {
            text: item.into(),
            toml: toml::Value::Float(f),
            number: Some(f),
        });
    }
    if let Ok(b) = item.parse::<bool>() {
        return Ok(Value {
            text: item.into(),
            toml: toml::Value::Boolean(b),
            number: None,
        });
    }
    Ok(Value {
        text: item.into(),
        toml: toml::Value::String(item.into()),
        number: base_units(item),
    })
}

/// Every combination of the parameters' values, first parameter slowest.
pub fn grid(params: &[Param]) -> Result<Vec<Vec<usize>>, SweepError> {
    let total = params
        .iter()
        .try_fold(1usize, |acc, p| acc.checked_mul(p.values.len()));
    match total {
        Some(n) if n <= MAX_POINTS => {}
        _ => {
            return err(format!(
                "the grid has more than {MAX_POINTS} points; sweep fewer values"
            ));
        }
    }
    let mut points = vec![Vec::new()];
    for p in params {
        points = points
            .into_iter()
            .flat_map(|prefix| {
                (0..p.values.len()).map(move |i| {
                    let mut v = prefix.clone();
                    v.push(i);
                    v
                })
            })
            .collect();
    }
    Ok(points)
}

/// The scenario text with `path` set to `value`. Every table on the way must
/// exist (arrays of tables take an index: "failures.0.at"); the field itself
/// may be absent, in which case it is added (validation then judges it).
pub fn patch(text: &str, path: &str, value: &toml::Value) -> Result<String, SweepError> {
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| SweepError(format!("cannot read the scenario: {e}")))?;
    let mut doc = toml::Value::Table(doc);
    let keys: Vec<&str> = path.split('.').collect();
    let mut node = &mut doc;
    for (depth, key) in keys[..keys.len() - 1].iter().enumerate() {
        let here = if depth == 0 {
            "the scenario".to_string()
        } else {
            format!("[{}]", keys[..depth].join("."))
        };
        node = match node {
            toml::Value::Table(t) => {
                let known: Vec<String> = t.keys().cloned().collect();
                t.get_mut(*key).ok_or_else(|| {
                    SweepError(format!(
                        "unknown parameter path \"{path}\": no table \"{key}\" in {here}; it has: {}",
                        known.join(", ")
                    ))
                })?
            }
            toml::Value::Array(a) => {
                let n = a.len();
                key.parse::<usize>().ok().and_then(|i| a.get_mut(i)).ok_or_else(|| {
                    SweepError(format!("unknown parameter path \"{path}\": {here} is a list of {n}; use an index below {n}"))
                })?
            }
            _ => {
                return err(format!(
                    "unknown parameter path \"{path}\": {here} is a value, not a table"
                ));
            }
        };
    }
    let leaf = keys[keys.len() - 1];
    match node {
        toml::Value::Table(t) => {
            t.insert(leaf.to_string(), value.clone());
        }
        _ => {
            return err(format!(
                "unknown parameter path \"{path}\": its parent is not a table"
            ));
        }
    }
    toml::to_string(&doc).map_err(|e| SweepError(format!("cannot write the patched scenario: {e}")))
}

/// The scenario at one grid point, validated; errors name the point.
pub fn scenario_at(
    file: &str,
    text: &str,
    params: &[Param],
    point: &[usize],
) -> Result<(String, Scenario), SweepError> {
    let mut t = text.to_string();
    for (p, &i) in params.iter().zip(point) {
        t = patch(&t, &p.path, &p.values[i].toml)?;
    }
    let label = describe_point(params, point);
    let s = scenario::parse(&format!("{file} at {label}"), &t)
        .map_err(|e| SweepError(e.to_string()))?;
    Ok((t, s))
}

pub fn describe_point(params: &[Param], point: &[usize]) -> String {
    params
        .iter()
        .zip(point)
        .map(|(p, &i)| format!("{}={}", p.path, p.values[i].text))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists() {
        let p = parse_spec("replication.interval=0.1s..10s:log:3").unwrap();
        let texts: Vec<&str> = p.values.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(texts, ["0.1s", "1s", "10s"]);
        assert!(p.log);
        let p = parse_spec("failover.health_check.threshold=1..5:lin:5").unwrap();
        assert_eq!(p.values[4].toml, toml::Value::Integer(5));
        let p = parse_spec("failover.dns.ttl=5s, 30s,60s").unwrap();
        assert_eq!(p.values.len(), 3);
        assert_eq!(p.values[1].number, Some(30.0));
    }

    #[test]
    fn bad_specs_are_explained() {
        assert!(
            parse_spec("replication.interval")
                .unwrap_err()
                .0
                .contains("PATH=VALUES")
        );
        assert!(
            parse_spec("a.b=0s..10s:log:4")
                .unwrap_err()
                .0
                .contains("cannot reach zero")
        );
        assert!(
            parse_spec("a.b=1s..10s:lin:0")
                .unwrap_err()
                .0
                .contains("empty range")
        );
        assert!(
            parse_spec("a.b=1s..1s:lin:3")
                .unwrap_err()
                .0
                .contains("empty range")
        );
        assert!(
            parse_spec("a.b=1s..10ms:lin:3")
                .unwrap_err()
                .0
                .contains("same unit")
        );
        assert!(parse_spec("a.b=").unwrap_err().0.contains("no values"));
        let big = [
            parse_spec("a.b=1..100:lin:100").unwrap(),
            parse_spec("c.d=1..200:lin:200").unwrap(),
        ];
        assert!(grid(&big).unwrap_err().0.contains("more than 10000 points"));
    }

    #[test]
    fn grid_is_the_cartesian_product() {
        let a = parse_spec("a.x=1,2").unwrap();
        let b = parse_spec("b.y=1,2,3").unwrap();
        assert_eq!(
            grid(&[a, b]).unwrap(),
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
    }

    #[test]
    fn patch_reports_unknown_tables() {
        let text = "[replication]\nmode = \"async\"\n";
        let e = patch(
            text,
            "replikation.interval",
            &toml::Value::String("1s".into()),
        )
        .unwrap_err();
        assert!(e.0.contains("no table \"replikation\""), "{e}");
        let ok = patch(
            text,
            "replication.mode",
            &toml::Value::String("sync".into()),
        )
        .unwrap();
        assert!(ok.contains("mode = \"sync\""));
    }
}

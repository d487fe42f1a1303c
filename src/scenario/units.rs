//! Quantities with units as users write them: "250ms", "1000/s", "4KiB", "1Gbps".
//!
//! Each type deserializes from a string and reports what would be valid when the
//! text is wrong, so the scenario loader can point at the exact field.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A non-negative duration, kept in seconds as written; converted to integer
/// nanoseconds once, when the scenario is validated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Duration(pub f64);

/// Events per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(pub f64);

/// Bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Size(pub f64);

/// Bits per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bandwidth(pub f64);

const DURATION_HELP: &str = "a duration with a unit, such as \"250ms\", \"30s\", \"5m\", \"2h\", \"1d\" (units: ns, us, ms, s, m, h, d, y)";
const RATE_HELP: &str = "a rate such as \"1000/s\", \"60/min\" or \"5/h\"";
const SIZE_HELP: &str =
    "a size such as \"512B\", \"4KiB\", \"1MB\" (units: B, KB, MB, GB, KiB, MiB, GiB)";
const BANDWIDTH_HELP: &str =
    "a bandwidth such as \"100Mbps\", \"1Gbps\", \"10Gbps\" (units: bps, Kbps, Mbps, Gbps, Tbps)";

/// Splits "12.5ms" into (12.5, "ms").
fn split_number(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(end);
    let num: String = num.chars().filter(|&c| c != '_').collect();
    let value: f64 = num.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    Some((value, unit.trim()))
}

pub fn parse_duration(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid duration \"{text}\": expected {DURATION_HELP}");
    let (value, unit) = split_number(text).ok_or_else(bad)?;
    let scale = match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "y" => 365.0 * 86_400.0,
        "" => {
            return Err(format!(
                "duration \"{text}\" has no unit: expected {DURATION_HELP}"
            ));
        }
        _ => return Err(bad()),
    };
    Ok(value * scale)
}

pub fn parse_rate(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid rate \"{text}\": expected {RATE_HELP}");
    let (count, per) = text.split_once('/').ok_or_else(bad)?;
    let (value, rest) = split_number(count).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let per_secs = match per.trim() {
        "s" | "sec" => 1.0,
        "min" | "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(bad()),
    };
    Ok(value / per_secs)
}

pub fn parse_size(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid size \"{text}\": expected {SIZE_HELP}");
    let (value, unit) = split_number(text).ok_or_else(bad)?;
    let scale = match unit {
        "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    Ok(value * scale)
}

pub fn parse_bandwidth(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid bandwidth \"{text}\": expected {BANDWIDTH_HELP}");
    let (value, unit) = split_number(text).ok_or_else(bad)?;
    let scale = match unit {
        "bps" => 1.0,
        "Kbps" | "kbps" => 1e3,
        "Mbps" => 1e6,
        "Gbps" => 1e9,
        "Tbps" => 1e12,
        _ => return Err(bad()),
    };
    Ok(value * scale)
}

macro_rules! string_quantity {
    ($ty:ident, $parse:ident, $help:expr) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($help)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$ty, E> {
                        $parse(s).map($ty).map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

string_quantity!(Duration, parse_duration, DURATION_HELP);
string_quantity!(Rate, parse_rate, RATE_HELP);
string_quantity!(Size, parse_size, SIZE_HELP);
string_quantity!(Bandwidth, parse_bandwidth, BANDWIDTH_HELP);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), 0.25);
        assert_eq!(parse_duration("30s").unwrap(), 30.0);
        assert_eq!(parse_duration("5m").unwrap(), 300.0);
        assert_eq!(parse_duration(" 1.5h ").unwrap(), 5400.0);
        assert!((parse_duration("10us").unwrap() - 1e-5).abs() < 1e-18);
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn rates_sizes_bandwidths() {
        assert_eq!(parse_rate("1000/s").unwrap(), 1000.0);
        assert_eq!(parse_rate("60/min").unwrap(), 1.0);
        assert!(parse_rate("1000").is_err());
        assert_eq!(parse_size("4KiB").unwrap(), 4096.0);
        assert_eq!(parse_size("1MB").unwrap(), 1e6);
        assert!(parse_size("4k").is_err());
        assert_eq!(parse_bandwidth("1Gbps").unwrap(), 1e9);
        assert!(parse_bandwidth("1GB/s").is_err());
    }
}

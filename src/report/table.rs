//! The human-readable summary printed after a study.

use std::fmt::Write;

use crate::metrics::summary::MetricSummary;

/// Metrics shown on the terminal, with the label a reader expects.
const SHOWN: [(&str, &str); 14] = [
    ("rto_s", "RTO, all clients (s)"),
    ("rto_first_s", "RTO, first client (s)"),
    ("detection_s", "detection (s)"),
    ("drain_wait_s", "drain wait (s)"),
    ("rpo_s", "RPO window (s)"),
    ("lost_writes", "lost writes"),
    ("replication_lag_p99_s", "replication lag p99 (s)"),
    ("replication_lag_max_s", "replication lag max (s)"),
    ("write_latency_p50_ms", "write latency p50 (ms)"),
    ("write_latency_p99_ms", "write latency p99 (ms)"),
    ("availability", "write availability"),
    ("false_failovers", "false failovers"),
    ("alert_errors_s", "error-rate alert after (s)"),
    ("alert_lag_s", "lag alert after (s)"),
];

/// The horizon-run view: how available, how often it fails, what it loses per year.
const SHOWN_HORIZON: [(&str, &str); 12] = [
    ("availability", "write availability"),
    ("downtime_min_per_year", "downtime (min/year)"),
    ("incidents", "primary outages"),
    ("failovers", "failovers"),
    ("false_failovers", "false failovers"),
    ("lost_writes_per_year", "lost writes per year"),
    ("rpo_s_max", "worst RPO window (s)"),
    ("rto_s", "RTO, first outage (s)"),
    ("replication_lag_mean_s", "replication lag mean (s)"),
    ("replication_lag_p99_s", "replication lag p99 (s)"),
    ("write_latency_p99_ms", "write latency p99 (ms)"),
    ("false_alerts", "alerts with no failure"),
];

fn num(x: Option<f64>) -> String {
    match x {
        None => "-".to_string(),
        Some(0.0) => "0".to_string(),
        Some(v) if v.abs() >= 1e5 => format!("{v:.0}"),
        Some(v) if v.abs() >= 100.0 => format!("{v:.1}"),
        Some(v) if v.abs() >= 1.0 => format!("{v:.3}"),
        // Availabilities: enough digits to tell the nines apart.
        Some(v) if v > 0.99 => format!("{v:.6}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// The summary table; `horizon` selects the long-horizon view.
pub fn render(summary: &[MetricSummary], runs: u64, horizon: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26} {:>5} {:>10} {:>23} {:>10} {:>10} {:>10} {:>10}",
        "metric", "n", "mean", "95% CI of mean", "p50", "p90", "p99", "max"
    );
    let shown: &[(&str, &str)] = if horizon { &SHOWN_HORIZON } else { &SHOWN };
    for &(key, label) in shown {
        let Some(m) = summary.iter().find(|m| m.metric == key) else {
            continue;
        };
        let ci = match (m.ci95_low, m.ci95_high) {
            (Some(lo), Some(hi)) => format!("[{}, {}]", num(Some(lo)), num(Some(hi))),
            _ => "-".to_string(),
        };
        // A yearly figure scaled from short runs says so (docs/metrics.md).
        let label = if m.extrapolated {
            format!("{label} *")
        } else {
            label.to_string()
        };
        let _ = writeln!(
            out,
            "{:<26} {:>5} {:>10} {:>23} {:>10} {:>10} {:>10} {:>10}",
            label,
            m.n,
            num(m.mean),
            ci,
            num(m.p50),
            num(m.p90),
            num(m.p99),
            num(m.max)
        );
    }
    if shown
        .iter()
        .any(|(key, _)| summary.iter().any(|m| m.metric == *key && m.extrapolated))
    {
        let _ = writeln!(
            out,
            "* extrapolated: a yearly figure scaled from runs much shorter than a year."
        );
    }
    if let Some(m) = summary.iter().find(|m| m.metric == "rto_s")
        && (m.n as u64) < runs
        && !horizon
    {
        let _ = writeln!(
            out,
            "RTO applies to {} of {runs} runs (the others had no primary outage, or it was still open at the horizon).",
            m.n
        );
    }
    out
}

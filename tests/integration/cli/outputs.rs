//! Reading a study's output files back and recomputing their statistics by
//! the definitions of docs/metrics.md, independently of src/metrics: CSV
//! parsed with the csv crate, means, sample standard deviations, quantiles by
//! linear interpolation between order statistics, Student-t, Wilson and
//! BCa bootstrap intervals, and numbers as shown in the terminal and index.html compared at
//! the precision they are shown with.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// A CSV file: its header and its rows of cells.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub fn read_csv(path: &Path) -> Table {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    Table { header, rows }
}

impl Table {
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    pub fn cells(&self, name: &str) -> Vec<&str> {
        let c = self.col(name);
        self.rows.iter().map(|r| r[c].as_str()).collect()
    }

    /// A numeric column; empty cells are None.
    pub fn values(&self, name: &str) -> Vec<Option<f64>> {
        self.cells(name)
            .into_iter()
            .map(|c| {
                (!c.is_empty()).then(|| {
                    c.parse()
                        .unwrap_or_else(|_| panic!("{name}: not a number: {c:?}"))
                })
            })
            .collect()
    }

    pub fn present(&self, name: &str) -> Vec<f64> {
        self.values(name).into_iter().flatten().collect()
    }
}

pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (n - 1 denominator).
pub fn std(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

/// Quantile p by linear interpolation between order statistics: the value at
/// position p (n - 1) of the sorted sample, 0-based, interpolated between the
/// two order statistics around it.
pub fn quantile(x: &[f64], p: f64) -> f64 {
    let mut s = x.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pos = p * (s.len() - 1) as f64;
    let below = pos.floor() as usize;
    let above = (below + 1).min(s.len() - 1);
    let frac = pos - below as f64;
    s[below] * (1.0 - frac) + s[above] * frac
}

/// Student's t, two-sided 95% (the 0.975 quantile), from published tables,
/// for the degrees of freedom these tests use.
pub fn t975(df: usize) -> f64 {
    match df {
        1 => 12.7062,
        2 => 4.3027,
        3 => 3.1824,
        4 => 2.7764,
        5 => 2.5706,
        29 => 2.0452,
        39 => 2.0227,
        _ => panic!("no table value for df = {df}"),
    }
}

/// The 95% Wilson score interval of k successes in n trials.
pub fn wilson(k: usize, n: usize) -> (f64, f64) {
    let z = 1.959_964_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = p + z * z / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (
        ((centre - half) / denom).max(0.0),
        ((centre + half) / denom).min(1.0),
    )
}

/// `a` and `b` agree to a relative 1e-9 (or 1e-9 absolutely near zero).
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Whether `shown` (a number as printed: "194.4", "0.9543", "1.23e2", "-")
/// is `value` rounded to the digits shown: within half a unit of its last
/// digit. "-" stands for no value; "0" only for an exact zero.
pub fn shows(shown: &str, value: Option<f64>) -> bool {
    let Some(v) = value else {
        return shown == "-";
    };
    if shown == "0" {
        return v == 0.0;
    }
    let Ok(x) = shown.parse::<f64>() else {
        return false;
    };
    let (mantissa, exp) = match shown.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap()),
        None => (shown, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let half_unit = 0.5 * 10f64.powi(exp - decimals);
    (x - v).abs() <= half_unit * (1.0 + 1e-9) + 1e-12 * v.abs()
}

/// The metric columns of runs.csv: every column but `run` and `seed`.
pub fn metric_columns(runs: &Table) -> Vec<&str> {
    runs.header
        .iter()
        .map(String::as_str)
        .filter(|h| *h != "run" && *h != "seed")
        .collect()
}

/// Every metric of summary.json recomputed from runs.csv by the definitions of
/// docs/metrics.md: the same set of metrics as runs.csv's columns, n the
/// non-empty cells, mean, std, the 95% CI of the mean (Wilson for the 0/1
/// flags, the BCa bootstrap otherwise; null when n < 2), min, max and p50/p90/p95/p99 by linear interpolation.
pub fn check_summary(runs: &Table, summary: &Value) {
    let metrics = summary["metrics"]
        .as_object()
        .expect("summary.json metrics");
    let in_summary: BTreeSet<&str> = metrics.keys().map(String::as_str).collect();
    let in_csv: BTreeSet<&str> = metric_columns(runs).into_iter().collect();
    assert_eq!(
        in_summary, in_csv,
        "summary.json metrics vs runs.csv columns"
    );
    for name in in_csv {
        let m = &metrics[name];
        let x = runs.present(name);
        assert_eq!(m["n"].as_u64(), Some(x.len() as u64), "{name}: n");
        if x.is_empty() {
            for k in ["mean", "min", "p50", "p99", "max"] {
                assert!(m[k].is_null(), "{name}: {k} of no values: {m}");
            }
            continue;
        }
        let get = |k: &str| {
            m[k].as_f64()
                .unwrap_or_else(|| panic!("{name}: {k} missing: {m}"))
        };
        let expect = |k: &str, want: f64| {
            assert!(
                close(get(k), want),
                "{name}: {k} = {} but {want} recomputed from runs.csv",
                get(k)
            );
        };
        let avg = mean(&x);
        expect("mean", avg);
        expect("min", x.iter().copied().fold(f64::INFINITY, f64::min));
        expect("max", x.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        for (k, p) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)] {
            expect(k, quantile(&x, p));
        }
        if x.len() >= 2 {
            let sd = std(&x);
            expect("std", sd);
            // The documented interval per metric: Wilson for the 0/1 flags,
            // the BCa bootstrap for every other column.
            let flag = name == "incident" || name == "recovered";
            let method = if flag { "wilson" } else { "bootstrap_bca" };
            assert_eq!(m["ci95_method"], method, "{name}");
            let (lo, hi) = if flag {
                wilson(x.iter().filter(|v| **v != 0.0).count(), x.len())
            } else {
                bootstrap_bca(&x)
            };
            // The bootstrap's Phi, its inverse and t are approximations here
            // and there (t to 4 decimals: ~6e-6 in the level): that moves
            // an end by under 1% of the spacing of the sorted resample
            // means, itself a few thousandths of the values' range at most.
            let range = x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                - x.iter().copied().fold(f64::INFINITY, f64::min);
            for (k, want) in [("ci95_low", lo), ("ci95_high", hi)] {
                // Wilson: z here is rounded to 6 decimals (1.5e-8 off).
                let tol = if flag {
                    1e-7
                } else {
                    1e-4 * range + 1e-9 * want.abs().max(1.0)
                };
                assert!(
                    (get(k) - want).abs() <= tol,
                    "{name}: {k} = {} but {want}",
                    get(k)
                );
            }
            let per_year = name.ends_with("_per_year");
            assert!(m["extrapolated"].is_boolean(), "{name}: {m}");
            if !per_year {
                assert_eq!(m["extrapolated"], false, "{name}");
            }
        } else {
            assert!(
                m["ci95_low"].is_null() && m["ci95_high"].is_null(),
                "{name}: {m}"
            );
        }
    }
}

/// A targets.csv row recomputed from the runs it judges: `values` are the
/// metric's cells (None where it does not apply), `unrecovered` marks runs
/// whose incident was still open at the horizon (they count for an RTO target,
/// as misses). Returns the verdict the row must have.
pub fn expected_verdict(
    values: &[Option<f64>],
    unrecovered: &[bool],
    rto_like: bool,
    bound: Bound,
    probability: f64,
) -> (usize, usize, &'static str) {
    let mut n = 0;
    let mut met = 0;
    for (v, open) in values.iter().zip(unrecovered) {
        match v {
            Some(v) => {
                n += 1;
                met += usize::from(match bound {
                    Bound::Max(b) => *v <= b,
                    Bound::Min(b) => *v >= b,
                });
            }
            None if rto_like && *open => n += 1,
            None => {}
        }
    }
    let (lo, hi) = wilson(met, n);
    let verdict = if n == 0 {
        "UNDECIDED"
    } else if lo >= probability {
        "PASS"
    } else if hi < probability {
        "FAIL"
    } else {
        "UNDECIDED"
    };
    (n, met, verdict)
}

#[derive(Clone, Copy, Debug)]
pub enum Bound {
    Max(f64),
    Min(f64),
}

/// Checks every row of targets.csv against the runs: `targets` lists, in
/// the file's order, (metric, bound, probability) as the scenario states them.
/// Returns the verdicts.
pub fn check_targets(
    targets_csv: &Table,
    runs: &Table,
    targets: &[(&str, Bound, f64)],
) -> Vec<String> {
    assert_eq!(targets_csv.rows.len(), targets.len(), "one row per target");
    let open: Vec<bool> = runs
        .cells("incident")
        .iter()
        .zip(runs.cells("recovered"))
        .map(|(i, r)| *i == "1" && r == "0")
        .collect();
    let mut verdicts = Vec::new();
    for (row, &(metric, bound, p)) in targets_csv.rows.iter().zip(targets) {
        let cell = |c: &str| row[targets_csv.col(c)].as_str();
        assert!(cell("target").starts_with(metric), "{row:?}");
        let rto_like = metric == "rto_s" || metric == "rto_first_s";
        let (n, met, verdict) = expected_verdict(&runs.values(metric), &open, rto_like, bound, p);
        assert_eq!(cell("n"), n.to_string(), "{row:?}");
        assert_eq!(cell("met"), met.to_string(), "{row:?}");
        assert!(
            close(cell("required_probability").parse().unwrap(), p),
            "{row:?}"
        );
        assert!(
            close(cell("estimate").parse().unwrap(), met as f64 / n as f64),
            "{row:?}"
        );
        let (lo, hi) = wilson(met, n);
        assert!(
            (cell("ci95_low").parse::<f64>().unwrap() - lo).abs() < 1e-6,
            "{row:?}: {lo}"
        );
        assert!(
            (cell("ci95_high").parse::<f64>().unwrap() - hi).abs() < 1e-6,
            "{row:?}: {hi}"
        );
        assert_eq!(cell("verdict"), verdict, "{row:?}");
        // runs_to_decide (UNDECIDED only): the first run count above n at
        // which the Wilson interval of the same estimate (a fractional
        // count) leaves out p, found by search; empty if estimate = p.
        let est = met as f64 / n as f64;
        let want = if verdict != "UNDECIDED" || est == p {
            String::new()
        } else {
            let z = 1.959_964_f64;
            let excludes = |m: f64| {
                let centre = (est + z * z / (2.0 * m)) / (1.0 + z * z / m);
                let half =
                    z / (1.0 + z * z / m) * (est * (1.0 - est) / m + z * z / (4.0 * m * m)).sqrt();
                p < centre - half || p > centre + half
            };
            let m = (n + 1..10_000_000).find(|&m| excludes(m as f64)).unwrap();
            m.to_string()
        };
        let got = cell("runs_to_decide");
        // The search and the closed form may differ by one run at the
        // boundary (z rounded, the bound itself counting as a PASS).
        let near = match (got.parse::<i64>(), want.parse::<i64>()) {
            (Ok(a), Ok(b)) => (a - b).abs() <= 1,
            _ => got == want,
        };
        assert!(near, "{row:?}: runs_to_decide {got}, searched {want}");
        verdicts.push(verdict.to_string());
    }
    verdicts
}

/// The exit code README.md documents for these verdicts: 0 all PASS (or no
/// targets), 2 a FAIL, 3 an UNDECIDED and no FAIL.
pub fn documented_exit_code(verdicts: &[String]) -> i32 {
    if verdicts.iter().any(|v| v == "FAIL") {
        2
    } else if verdicts.iter().any(|v| v == "UNDECIDED") {
        3
    } else {
        0
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The cells of `tag` ("td" or "th") in an HTML fragment, as text.
fn cells(fragment: &str, tag: &str) -> Vec<String> {
    fragment
        .split(&format!("<{tag}"))
        .skip(1)
        // "<th" also opens "<thead>": a cell's tag ends there or has attributes.
        .filter(|c| c.starts_with(['>', ' ']))
        .map(|c| unescape(&c[c.find('>').unwrap() + 1..c.find(&format!("</{tag}>")).unwrap()]))
        .collect()
}

/// The `n`-th `<table class="data">` of a page: its header cells and its
/// body rows, as texts (entities decoded).
pub fn html_table_with_header(html: &str, n: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let start = html
        .match_indices("<table class=\"data\">")
        .nth(n)
        .unwrap_or_else(|| panic!("no data table {n}"))
        .0;
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let body_at = table.find("<tbody>").unwrap();
    let header = cells(&table[..body_at], "th");
    let rows = table[body_at..]
        .split("<tr>")
        .skip(1)
        .map(|tr| cells(tr, "td"))
        .collect();
    (header, rows)
}

/// The body rows of the `n`-th data table of a page.
pub fn html_table(html: &str, n: usize) -> Vec<Vec<String>> {
    html_table_with_header(html, n).1
}

/// xoshiro256++ (Blackman and Vigna's reference `next`).
struct Xoshiro([u64; 4]);

impl Xoshiro {
    fn next(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }
}

/// Vigna's SplitMix64 step as a function: add the golden gamma, then mix.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The standard normal CDF by Simpson's rule on the density from 0
/// (2,000 panels: error far below 1e-10 for |z| < 6).
fn phi(z: f64) -> f64 {
    let panels = 2000;
    let h = z / panels as f64;
    let f = |t: f64| (-t * t / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut sum = f(0.0) + f(z);
    for i in 1..panels {
        sum += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    0.5 + sum * h / 3.0
}

/// Its inverse by bisection.
fn phi_inverse(p: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0, 10.0);
    for _ in 0..80 {
        let mid = (lo + hi) / 2.0;
        if phi(mid) < p { lo = mid } else { hi = mid }
    }
    (lo + hi) / 2.0
}

/// The BCa bootstrap 95% interval of the mean exactly as docs/metrics.md
/// ("Intervals") defines it (z expanded to sqrt(n / (n - 1)) t(0.975, n - 1)):
/// B = 1000, xoshiro256++ whose state words are w1 = splitmix(seed),
/// w(k+1) = splitmix(w(k)) from seed 0xB007574300000095, indices
/// floor(u n / 2^64).
pub fn bootstrap_bca(x: &[f64]) -> (f64, f64) {
    let n = x.len();
    let m = mean(x);
    if x.iter().all(|v| *v == x[0]) {
        return (m, m);
    }
    let mut state = 0xB007_5743_0000_0095u64;
    let mut rng = Xoshiro([0; 4]);
    for w in rng.0.iter_mut() {
        state = splitmix(state);
        *w = state;
    }
    let b = 1000usize;
    let mut means = Vec::with_capacity(b);
    for _ in 0..b {
        let mut sum = 0.0;
        for _ in 0..n {
            let i = ((rng.next() as u128 * n as u128) >> 64) as usize;
            sum += x[i];
        }
        means.push(sum / n as f64);
    }
    let below = means.iter().filter(|v| **v < m).count() as f64;
    let ties = means.iter().filter(|v| **v == m).count() as f64;
    let bf = b as f64;
    let z0 = phi_inverse(((below + ties / 2.0) / bf).clamp(0.5 / bf, 1.0 - 0.5 / bf));
    let s2: f64 = x.iter().map(|v| (v - m).powi(2)).sum();
    let s3: f64 = x.iter().map(|v| (v - m).powi(3)).sum();
    let a = s3 / (6.0 * s2.powf(1.5));
    let z = (n as f64 / (n as f64 - 1.0)).sqrt() * t975(n - 1);
    let level = |zz: f64| phi(z0 + (z0 + zz) / (1.0 - a * (z0 + zz)));
    (quantile(&means, level(-z)), quantile(&means, level(z)))
}

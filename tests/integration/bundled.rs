//! Every scenario shipped under scenarios/ validates and runs, and each run's
//! key metrics lie within the range its parameters imply (bounds that hold
//! for every run, derived below from the file; no extra runs are needed, so
//! the two runs of each scenario cost what they did).

use drsim::metrics::row::RunRow;

/// `lo <= x <= hi`, or why not.
fn within(what: &str, x: f64, lo: f64, hi: f64) -> Result<(), String> {
    if (lo..=hi).contains(&x) {
        Ok(())
    } else {
        Err(format!("{what} = {x}, expected in [{lo}, {hi}]"))
    }
}

fn some(what: &str, x: Option<f64>) -> Result<f64, String> {
    x.ok_or_else(|| format!("{what} is empty"))
}

fn equal<T: PartialEq + std::fmt::Debug>(what: &str, x: T, want: T) -> Result<(), String> {
    if x == want {
        Ok(())
    } else {
        Err(format!("{what} = {x:?}, expected {want:?}"))
    }
}

/// Detection by checks every `interval` s with a `timeout` s and a threshold
/// of 3: the third failed check after the failure completes between
/// 2 intervals + timeout (a check sent just before the failure, minus its
/// network trip, under 0.2 s) and 3 intervals + timeout after it.
fn detection_x3(r: &RunRow, interval: f64, timeout: f64) -> Result<f64, String> {
    let d = some("detection_s", r.detection_s)?;
    within(
        "detection_s",
        d,
        2.0 * interval + timeout - 0.2,
        3.0 * interval + timeout,
    )?;
    Ok(d)
}

/// The active-passive chain after detection: the drain (its measured wait),
/// promotion in [p_lo, p_hi], the DNS update in [u_lo, u_hi], then each
/// client's cache expiring within the TTL: the last client is back between
/// p_lo + u_lo and p_hi + u_hi + ttl after detection and drain, the first
/// client no later than that (1 s of slack for messages and fencing).
fn chain(r: &RunRow, detection: f64, p: (f64, f64), u: (f64, f64), ttl: f64) -> Result<(), String> {
    let drain = r.drain_wait_s.unwrap_or(0.0);
    let rto = some("rto_s", r.rto_s)? - detection - drain;
    within(
        "rto_s - detection - drain",
        rto,
        p.0 + u.0,
        p.1 + u.1 + ttl + 1.0,
    )?;
    let first = some("rto_first_s", r.rto_first_s)? - detection - drain;
    within("rto_first_s - detection - drain", first, p.0 + u.0, rto)
}

/// The ranges each bundled scenario's runs must fall in.
fn check(file: &str, r: &RunRow) -> Result<(), String> {
    match file {
        // A permanent outage of the primary at 10-30 min of a 1 h run; checks
        // every 30 s, 2 s timeout, x3; promotion 20-60 s, DNS update 5-30 s,
        // TTL 60 s; periodic shipping every 1 s: the RPO window is at most
        // the interval plus a batch's transatlantic delivery (< 0.2 s).
        "active-passive.toml" | "active-passive-sweep.toml" => {
            equal("incident", r.incident, 1)?;
            equal("failovers", r.failovers, 1)?;
            equal("false_failovers", r.false_failovers, 0)?;
            let d = detection_x3(r, 30.0, 2.0)?;
            chain(r, d, (20.0, 60.0), (5.0, 30.0), 60.0)?;
            within(
                "drain_wait_s",
                some("drain_wait_s", r.drain_wait_s)?,
                0.0,
                300.0,
            )?;
            within("rpo_s", r.rpo_s, 0.0, 1.2)
        }
        // Semi-sync, 1 of 2 acks, drain before promotion: no acknowledged
        // write lost (the README's claim); checks every 10 s, 2 s, x3; the
        // outage (2 h +- 20 min) outlasts the 30 min run.
        "active-passive-semisync.toml" => {
            equal("incident", r.incident, 1)?;
            equal("lost_writes", r.lost_writes, 0)?;
            equal("failovers", r.failovers, 1)?;
            equal("false_failovers", r.false_failovers, 0)?;
            detection_x3(r, 10.0, 2.0)?;
            Ok(())
        }
        // Manual failover: after detection (30 s checks x3, but the degraded
        // link's 2% loss may have failed a check before the outage: no lower
        // bound) an operator delay, then promotion 20-60 s and DNS 5-30 s:
        // the first client back at least 25 s after detection and drain.
        "active-passive-manual.toml" => {
            equal("incident", r.incident, 1)?;
            let d = some("detection_s", r.detection_s)?;
            within("detection_s", d, 0.0, 3.0 * 30.0 + 2.0)?;
            let drain = r.drain_wait_s.unwrap_or(0.0);
            let first = some("rto_first_s", r.rto_first_s)?;
            within(
                "rto_first_s - detection - drain",
                first - d - drain,
                25.0,
                7200.0,
            )?;
            within("rto_s", some("rto_s", r.rto_s)?, first, 7200.0)
        }
        // The whole us-east region lost (primary and preferred standby): the
        // manager beside eu-west-1 fails over to it, once. Checks every
        // 10 s, 2 s, x3; promotion 20-60 s, DNS 5-30 s, TTL 60 s; continuous
        // shipping: the window is a transatlantic delivery with at most a few
        // retransmissions (200 ms doubling): under 1 s.
        "region-disaster.toml" => {
            equal("incident", r.incident, 1)?;
            equal("failovers", r.failovers, 1)?;
            let d = detection_x3(r, 10.0, 2.0)?;
            chain(r, d, (20.0, 60.0), (5.0, 30.0), 60.0)?;
            within("rpo_s", r.rpo_s, 0.0, 1.0)
        }
        // A 15 min cut between primary and standby; the witness in a third
        // site still sees the primary and vetoes: no failover, nothing lost,
        // and the primary never fails (no incident).
        "partition.toml" => {
            equal("incident", r.incident, 0)?;
            equal("failovers", r.failovers, 0)?;
            equal("false_failovers", r.false_failovers, 0)?;
            equal("lost_writes", r.lost_writes, 0)
        }
        // The link drops every ~2 min (exponential) for 5-40 s; the primary
        // never fails, so every failover is false. A drop longer than about
        // 2 check intervals + timeout (22-32 s) fails over: about 28 drops an
        // hour, 1/3 of them long enough, about 10 false failovers an hour;
        // Poisson(10) is in [1, 30] but with probability 1e-4.
        "flapping-link.toml" => {
            equal("incident", r.incident, 0)?;
            equal("false_failovers", r.false_failovers, r.failovers)?;
            within("false_failovers", r.false_failovers as f64, 1.0, 30.0)
        }
        // us-east-1 fails for good at 10-20 min; the load balancer checks
        // every 30 s, 5 s timeout, x3, and takes it out of rotation (one
        // "failover"); its clients follow DNS (update 5-30 s, TTL 60 s).
        "active-active.toml" => {
            equal("incident", r.incident, 1)?;
            equal("failovers", r.failovers, 1)?;
            let d = detection_x3(r, 30.0, 5.0)?;
            let rto = some("rto_s", r.rto_s)?;
            within("rto_s - detection", rto - d, 5.0, 30.0 + 60.0 + 1.0)
        }
        // The us-east region (both active sites) lost for good: both taken
        // out of rotation and one cross-region promotion of eu-west-1, 3
        // "failovers" (docs/metrics.md); 30 s checks, 5 s, x3, then the
        // chain: promotion 20-60 s, DNS 5-30 s, TTL 60 s.
        "hybrid.toml" => {
            equal("incident", r.incident, 1)?;
            equal("region_failovers", r.region_failovers, 1)?;
            equal("failovers", r.failovers, 3)?;
            let d = detection_x3(r, 30.0, 5.0)?;
            chain(r, d, (20.0, 60.0), (5.0, 30.0), 60.0)
        }
        // Ten years: the serving primary (either site, each failing about
        // yearly, or its region, every 30 years) fails about 10.3 times;
        // Poisson(10.3) is within [1, 26] but with probability 1e-4. The
        // transatlantic link is cut every 120 days (30.4 cuts, median 20 min,
        // nearly all longer than detection): without a witness each cut is
        // a false failover, Poisson(30.4) in [10, 55] (1e-4); with the
        // witness in us-west-2, none.
        "active-passive-horizon.toml" => {
            within("incidents", r.incidents as f64, 1.0, 26.0)?;
            within("false_failovers", r.false_failovers as f64, 10.0, 55.0)
        }
        "active-passive-horizon-witness.toml" => {
            within("incidents", r.incidents as f64, 1.0, 26.0)?;
            equal("false_failovers", r.false_failovers, 0)
        }
        // Ten years of three active sites each failing about yearly (and
        // their regions every 30 years): about 30.7 site failures a decade,
        // Poisson(30.7) within [10, 56] but with probability 1e-4.
        "active-active-horizon.toml" => within("incidents", r.incidents as f64, 10.0, 56.0),
        // Two active sites failing about yearly each and their region every
        // 30 years: about 20.3 a decade, Poisson(20.3) within [5, 42].
        "hybrid-horizon.toml" => within("incidents", r.incidents as f64, 5.0, 42.0),
        // The benchmark: dc-1 fails every ~2 min (exponential), for ~10 s;
        // a single check (threshold 1) every 5 s with a 1 s timeout detects
        // the first outage 1 s (minus a probe's trip) to 5 + 1 s after it,
        // if it lasts that long.
        // Poisson(30) outages of the serving primary an hour, some merged
        // or shortened by failovers: within [5, 55].
        "reference.toml" => {
            if let Some(d) = r.detection_s {
                within("detection_s", d, 0.5, 6.0)?;
            }
            within("incidents", r.incidents as f64, 5.0, 55.0)
        }
        // The fair comparison (scenarios/compare/): the us-east region (both
        // us-east sites) lost for good at 10-20 min of 40; checks every
        // 30 s, 5 s, x3 from us-central; promotion 20-60 s, DNS 5-30 s, TTL
        // 60 s; continuous shipping: the window is a transatlantic delivery
        // with at most a few retransmissions, under 1 s.
        "active-passive-incident.toml" => {
            equal("incident", r.incident, 1)?;
            equal("failovers", r.failovers, 1)?;
            equal("false_failovers", r.false_failovers, 0)?;
            let d = detection_x3(r, 30.0, 5.0)?;
            chain(r, d, (20.0, 60.0), (5.0, 30.0), 60.0)?;
            within("rpo_s", r.rpo_s, 0.0, 1.0)
        }
        // Both us-east sites leave rotation (2 "failovers"), eu-west-1 takes
        // their clients as DNS (5-30 s, TTL 60 s) moves them.
        "active-active-incident.toml" => {
            equal("incident", r.incident, 1)?;
            equal("failovers", r.failovers, 2)?;
            let d = detection_x3(r, 30.0, 5.0)?;
            let rto = some("rto_s", r.rto_s)?;
            within("rto_s - detection", rto - d, 5.0, 30.0 + 60.0 + 1.0)?;
            within("rpo_s", r.rpo_s, 0.0, 1.0)
        }
        // Both out of rotation and one cross-region promotion (3).
        "hybrid-incident.toml" => {
            equal("incident", r.incident, 1)?;
            equal("region_failovers", r.region_failovers, 1)?;
            equal("failovers", r.failovers, 3)?;
            let d = detection_x3(r, 30.0, 5.0)?;
            chain(r, d, (20.0, 60.0), (5.0, 30.0), 60.0)?;
            within("rpo_s", r.rpo_s, 0.0, 1.0)
        }
        // Ten years. Active-passive fails back to us-east-1, so the serving
        // primary is nearly always us-east-1 (yearly) or its region (every
        // 30 years): Poisson(10.3) within [1, 26] (1e-4). The monitor in
        // us-central reaches the primary over a link that never fails: the
        // transatlantic cuts fail over nothing.
        "active-passive-10y.toml" => {
            within("incidents", r.incidents as f64, 1.0, 26.0)?;
            equal("false_failovers", r.false_failovers, 0)
        }
        // Three active sites yearly and the region (two of them) every 30
        // years: Poisson(30.7) within [10, 56]; hybrid's two: Poisson(20.3)
        // within [5, 42].
        "active-active-10y.toml" => within("incidents", r.incidents as f64, 10.0, 56.0),
        "hybrid-10y.toml" => within("incidents", r.incidents as f64, 5.0, 42.0),
        other => Err(format!("no expected ranges for {other}: add them here")),
    }
}

#[test]
fn every_bundled_scenario_validates_and_runs() {
    // Runs 0 and 1 of seed 1, shared with the pins (computed once).
    let all = super::pins::bundled_rows();
    assert!(all.len() >= 14, "{} scenarios", all.len());
    let mut problems = Vec::new();
    for (f, rows) in all {
        assert_eq!(rows.len(), 2);
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for r in rows {
            if !(r.events > 0 && r.writes > 0) {
                problems.push(format!("{name} run {}: no events or writes", r.run));
            }
            if let Err(e) = check(&name, r) {
                problems.push(format!("{name} run {}: {e}", r.run));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The fair comparison's designs share the workload stream: run i of each
/// incident file sees the same writes (attempted), whatever each design
/// refuses or loses. Ten-year runs count the writes of each aggregate period
/// in one Poisson draw, and the periods end at each design's own
/// disturbances, so there the counts agree within Poisson noise only (5 sd:
/// 5 x sqrt(6.3e10) = 1.3e6 of 6.3e10).
#[test]
fn the_compared_designs_see_the_same_writes() {
    let all = super::pins::bundled_rows();
    for set in ["incident", "10y"] {
        let designs: Vec<&Vec<RunRow>> = all
            .iter()
            .filter(|(f, _)| {
                f.parent().is_some_and(|d| d.ends_with("compare"))
                    && f.file_stem()
                        .is_some_and(|s| s.to_string_lossy().ends_with(set))
            })
            .map(|(_, rows)| rows)
            .collect();
        assert_eq!(designs.len(), 3, "{set}: three designs");
        for rows in &designs[1..] {
            for (a, b) in designs[0].iter().zip(rows.iter()) {
                if set == "incident" {
                    assert_eq!(a.writes, b.writes, "{set}, run {}", a.run);
                } else {
                    let d = (a.writes as f64 - b.writes as f64).abs();
                    assert!(
                        d <= 5.0 * (a.writes as f64).sqrt(),
                        "{set}, run {}: {} vs {} writes",
                        a.run,
                        a.writes,
                        b.writes
                    );
                }
            }
        }
    }
}

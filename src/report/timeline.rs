//! One traced run for readers (`drsim trace`): the event log as CSV or JSON
//! lines, the key moments of the incident, and the timeline chart (site
//! states, failover phases, replication lag, clients reaching a serving
//! primary). Everything here reads a finished `sim::Trace`; the engine only
//! records plain data and never formats.

use std::fmt::Write;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::base::time::{NANOS_PER_SEC, SimTime};
use crate::model::{Scenario, SiteId};
use crate::sim::event::{ConnKind, Event};
use crate::sim::trace::{Note, SiteStatus, Trace};
use crate::sim::world::Phase;

use super::plot::{Chart, color, short};

// ---------------------------------------------------------------------------
// Event log

/// One line of the event log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow<'a> {
    pub at: SimTime,
    /// The event's variant name in snake_case, e.g. `site_failed`.
    pub event: &'static str,
    /// The datacenter the event concerns, if one does.
    pub site: Option<&'a str>,
    /// Short `key=value` text.
    pub details: String,
}

/// The name of an event in logs: its variant name in snake_case.
pub fn event_name(e: &Event) -> &'static str {
    match e {
        Event::WriteArrived => "write_arrived",
        Event::ShipTick => "ship_tick",
        // Standby streams and peer streams are one mechanism; the log keeps
        // the names users know for each.
        Event::Delivered {
            kind: ConnKind::Standby,
            ..
        } => "segment_delivered",
        Event::Confirmed {
            kind: ConnKind::Standby,
            ..
        } => "ack_delivered",
        Event::Reconnect {
            kind: ConnKind::Standby,
            ..
        } => "stream_reconnected",
        Event::Delivered {
            kind: ConnKind::Peer,
            ..
        } => "peer_delivered",
        Event::Confirmed {
            kind: ConnKind::Peer,
            ..
        } => "peer_acked",
        Event::Reconnect {
            kind: ConnKind::Peer,
            ..
        } => "peer_reconnected",
        Event::HealthCheckDue { .. } => "health_check_due",
        Event::ProbeArrived { .. } => "probe_arrived",
        Event::CheckCompleted { .. } => "check_completed",
        Event::FailoverStarted { .. } => "failover_started",
        Event::DrainTimedOut { .. } => "drain_timed_out",
        Event::PromotionDone { .. } => "promotion_done",
        Event::DnsUpdated { .. } => "dns_updated",
        Event::FailbackStarted { .. } => "failback_started",
        Event::RegionResynced { .. } => "region_resynced",
        Event::AllClientsMoved { .. } => "all_clients_moved",
        Event::SiteFailed { .. } => "site_failed",
        Event::SiteRepaired { .. } => "site_repaired",
        Event::LinkFailed { .. } => "link_failed",
        Event::LinkRepaired { .. } => "link_repaired",
        Event::LinkDegraded { .. } => "link_degraded",
        Event::LinkRestored { .. } => "link_restored",
        Event::GlbCheckDue => "glb_check_due",
        Event::GlbSiteCheckDue { .. } => "glb_site_check_due",
        Event::GlbProbeArrived { .. } => "glb_probe_arrived",
        Event::GlbCheckCompleted { .. } => "glb_check_completed",
        Event::RoutesPublished { .. } => "routes_published",
        Event::ClientsSwitched => "clients_switched",
        Event::GrayStarted { .. } => "gray_started",
        Event::GrayEnded { .. } => "gray_ended",
        Event::StallStarted { .. } => "stall_started",
        Event::StallEnded { .. } => "stall_ended",
        Event::AlertCheck => "alert_check",
        Event::PathSwitch { .. } => "path_switch",
        Event::TryQuiet => "try_quiet",
        Event::WritesResume { .. } => "writes_resume",
        Event::HorizonReached => "horizon_reached",
    }
}

/// Exact seconds from integer nanoseconds (no float rounding in the log).
pub fn secs_text(t: SimTime) -> String {
    format!("{}.{:09}", t.0 / NANOS_PER_SEC, t.0 % NANOS_PER_SEC)
}

fn conn_text(kind: ConnKind, index: u16) -> String {
    match kind {
        ConnKind::Standby => format!("stream={index}"),
        ConnKind::Peer => format!("peer={index}"),
    }
}

fn link_name(s: &Scenario, link: u16) -> String {
    match s.links.get(link as usize) {
        Some(l) => format!("{}<->{}", s.datacenters[l.a].name, s.datacenters[l.b].name),
        None => link.to_string(),
    }
}

/// The event log of a traced run, in dispatch order (time, then scheduling order).
pub fn event_log<'a>(s: &'a Scenario, trace: &Trace) -> Vec<LogRow<'a>> {
    trace
        .entries
        .iter()
        .map(|e| {
            let mut d = String::new();
            match e.event {
                Event::Delivered {
                    kind,
                    conn,
                    epoch,
                    to,
                }
                | Event::Confirmed {
                    kind,
                    conn,
                    epoch,
                    to,
                } => {
                    let _ = write!(d, "{} epoch={epoch} to={to}", conn_text(kind, conn));
                }
                Event::Reconnect { kind, conn, epoch } => {
                    let _ = write!(d, "{} epoch={epoch}", conn_text(kind, conn));
                }
                Event::ProbeArrived { sent } => {
                    let _ = write!(d, "sent_s={}", secs_text(sent));
                }
                Event::CheckCompleted { ok } => {
                    let _ = write!(d, "ok={ok}");
                }
                Event::FailoverStarted { failover }
                | Event::DrainTimedOut { failover }
                | Event::PromotionDone { failover }
                | Event::DnsUpdated { failover }
                | Event::FailbackStarted { failover }
                | Event::RegionResynced { failover }
                | Event::AllClientsMoved { failover } => {
                    let _ = write!(d, "failover={failover}");
                }
                Event::LinkFailed { link } | Event::LinkRepaired { link } => {
                    let _ = write!(d, "link={}", link_name(s, link));
                }
                Event::LinkDegraded { link, failure } | Event::LinkRestored { link, failure } => {
                    let _ = write!(d, "link={} failure={failure}", link_name(s, link));
                }
                Event::GlbProbeArrived { site, sent } => {
                    let _ = write!(
                        d,
                        "site={} sent_s={}",
                        s.datacenters[site as usize].name,
                        secs_text(sent)
                    );
                }
                Event::GlbCheckCompleted { site, ok } => {
                    let _ = write!(d, "site={} ok={ok}", s.datacenters[site as usize].name);
                }
                Event::RoutesPublished { version } => {
                    let _ = write!(d, "version={version}");
                }
                Event::WriteArrived
                | Event::GlbCheckDue
                | Event::GlbSiteCheckDue { .. }
                | Event::ClientsSwitched
                | Event::ShipTick
                | Event::HealthCheckDue { .. }
                | Event::SiteFailed { .. }
                | Event::SiteRepaired { .. }
                | Event::TryQuiet
                | Event::AlertCheck
                | Event::PathSwitch { .. }
                | Event::WritesResume { .. }
                | Event::GrayStarted { .. }
                | Event::GrayEnded { .. }
                | Event::StallStarted { .. }
                | Event::StallEnded { .. }
                | Event::HorizonReached => {}
            }
            let sep = |d: &mut String| {
                if !d.is_empty() {
                    d.push(' ');
                }
            };
            match e.note {
                Note::None => {}
                Note::Ignored => {
                    sep(&mut d);
                    d.push_str("ignored=true");
                }
                Note::Accepted { seq } => {
                    sep(&mut d);
                    let _ = write!(d, "result=accepted seq={seq}");
                }
                Note::Refused => {
                    sep(&mut d);
                    d.push_str("result=refused");
                }
                Note::Applied { seq } => {
                    sep(&mut d);
                    let _ = write!(d, "applied={seq}");
                }
                Note::NothingApplied => {
                    sep(&mut d);
                    d.push_str("applied=none");
                }
                Note::Check {
                    failures,
                    declared_down,
                } => {
                    sep(&mut d);
                    let _ = write!(d, "failures={failures}");
                    if declared_down {
                        d.push_str(" declared_down=true");
                    }
                }
                Note::Recovered => {
                    sep(&mut d);
                    d.push_str("recovered=true");
                }
            }
            LogRow {
                at: e.at,
                event: event_name(&e.event),
                site: e
                    .site
                    .and_then(|i| s.datacenters.get(i as usize))
                    .map(|d| d.name.as_str()),
                details: d,
            }
        })
        .collect()
}

/// The log as CSV with the header `time_s,event,site,details`.
pub fn log_csv(rows: &[LogRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 48));
    w.write_record(["time_s", "event", "site", "details"])?;
    for r in rows {
        w.write_record([
            secs_text(r.at).as_str(),
            r.event,
            r.site.unwrap_or(""),
            r.details.as_str(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The log as JSON lines: `{"time_s":…,"event":…,"site":…|null,"details":…}`.
/// Times are written as exact decimals of the integer nanoseconds.
pub fn log_jsonl(rows: &[LogRow]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(rows.len() * 80);
    for r in rows {
        out.extend_from_slice(b"{\"time_s\":");
        out.extend_from_slice(secs_text(r.at).as_bytes());
        out.extend_from_slice(b",\"event\":");
        serde_json::to_writer(&mut out, r.event)?;
        out.extend_from_slice(b",\"site\":");
        serde_json::to_writer(&mut out, &r.site)?;
        out.extend_from_slice(b",\"details\":");
        serde_json::to_writer(&mut out, &r.details)?;
        out.extend_from_slice(b"}\n");
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Key moments

/// A milestone of the run's incident.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyMoment {
    pub name: &'static str,
    /// `None`: it did not happen in this run.
    pub at: Option<SimTime>,
    pub site: Option<SiteId>,
    pub note: String,
}

/// The incident's milestones, in chain order: failure, detection, fencing,
/// drain end, promotion, DNS update, first client served, all clients moved.
/// Failure, detection, drain and the two client moments are the instants the
/// row's columns are computed from; the rest come from the recorded changes.
/// Without an incident (the primary never failed), the chain is anchored at
/// the first detection, if any (a false alarm).
pub fn key_moments(s: &Scenario, trace: &Trace) -> Vec<KeyMoment> {
    let inc = trace.incident;
    let first_detection = || {
        trace.entries.iter().find_map(|e| match e.note {
            Note::Check {
                declared_down: true,
                ..
            } => Some(e.at),
            _ => None,
        })
    };
    let failure = inc.map(|i| i.start);
    let detection = match inc {
        Some(i) => i.detected,
        None => first_detection(),
    };
    let anchor = failure.or(detection);
    let after = |t: SimTime| anchor.is_some_and(|a| t >= a);
    let failed_site = failure.and_then(|f| {
        trace
            .sites
            .iter()
            .find(|c| c.at == f && c.status.primary && !c.status.up)
            .map(|c| c.site)
    });
    let fencing = trace
        .sites
        .iter()
        .find(|c| after(c.at) && c.status.fenced)
        .map(|c| (c.at, c.site));
    let promoting = trace
        .phases
        .iter()
        .find(|p| after(p.at) && matches!(p.phase, Phase::Promoting { .. }));
    let old_primary = failed_site.or(fencing.map(|f| f.1));
    let promotion = trace
        .sites
        .iter()
        .find(|c| after(c.at) && c.status.primary && Some(c.site) != old_primary)
        .map(|c| (c.at, c.site));
    let dns = promotion.and_then(|(p, _)| {
        trace.entries.iter().find(|e| {
            e.at >= p && matches!(e.event, Event::DnsUpdated { .. }) && e.note != Note::Ignored
        })
    });
    let monitor = s.failover.monitor;
    let drain_wait = inc.and_then(|i| i.drain_wait);
    let drain_note = match (drain_wait, s.failover.drain_timeout) {
        (_, None) => "no drain configured: promotion starts at once".to_string(),
        (Some(w), _) if w.0 == 0 => {
            "nothing in flight to the target (drain_wait_s = 0)".to_string()
        }
        (Some(w), _) => format!(
            "waited {} s for in-flight replication (drain_wait_s)",
            short_s(w.0)
        ),
        (None, Some(_)) => String::new(),
    };
    let drain_end = match (drain_wait, promoting) {
        (Some(_), Some(p)) => Some(p.at),
        _ => None,
    };
    let promoting_target = promoting.and_then(|p| match p.phase {
        Phase::Promoting { target } => Some(target),
        _ => None,
    });
    vec![
        KeyMoment {
            name: "failure",
            at: failure,
            site: failed_site,
            note: if failure.is_some() {
                "the serving primary goes down".into()
            } else {
                "the primary never failed".into()
            },
        },
        KeyMoment {
            name: "detection",
            at: detection,
            site: detection.map(|_| monitor),
            note: format!(
                "{} consecutive failed health checks (detection_s)",
                s.failover.health_check.threshold
            ),
        },
        KeyMoment {
            name: "fencing",
            at: fencing.map(|f| f.0),
            site: fencing.map(|f| f.1),
            note: "old primary stopped".into(),
        },
        KeyMoment {
            name: "drain end",
            at: drain_end,
            site: drain_end.and(promoting_target),
            note: drain_note,
        },
        KeyMoment {
            name: "promotion",
            at: promotion.map(|p| p.0),
            site: promotion.map(|p| p.1),
            note: "the standby is the new primary".into(),
        },
        KeyMoment {
            name: "DNS update",
            at: dns.map(|e| e.at),
            site: promotion.map(|p| p.1).filter(|_| dns.is_some()),
            note: "the record names the new primary".into(),
        },
        KeyMoment {
            name: "first client served",
            at: inc.and_then(|i| i.first_served),
            site: None,
            note: "the first client's writes are accepted again (rto_first_s)".into(),
        },
        KeyMoment {
            name: "all clients moved",
            at: inc.and_then(|i| i.recovered),
            site: None,
            note: "every client's writes are accepted again (rto_s)".into(),
        },
    ]
}

fn short_s(ns: u64) -> String {
    short(ns as f64 / 1e9)
}

// ---------------------------------------------------------------------------
// Derived series

/// The share of clients whose writes a serving primary accepts, as a step
/// function over the whole run: (time, fraction from then on). This is what
/// the incident's recovery waits for.
pub fn clients_served(trace: &Trace) -> Vec<(SimTime, f64)> {
    let n_sites = trace.sites.iter().map(|c| c.site + 1).max().unwrap_or(0);
    let mut status = vec![
        SiteStatus {
            up: false,
            fenced: false,
            primary: false,
        };
        n_sites
    ];
    // Interval boundaries: every site change and every DNS update.
    let mut bounds: Vec<SimTime> = trace
        .sites
        .iter()
        .map(|c| c.at)
        .chain(trace.routing.iter().map(|r| r.at))
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut out: Vec<(SimTime, f64)> = Vec::new();
    let mut push = |t: SimTime, v: f64| {
        if out.last().is_some_and(|l| l.0 == t) {
            out.pop();
        }
        if out.last().is_none_or(|l| l.1 != v) {
            out.push((t, v));
        }
    };
    let (mut next_change, mut snap) = (0, 0);
    // Switch times of the current snapshot, sorted, with the client index.
    let mut order: Vec<usize> = Vec::new();
    for (k, &a) in bounds.iter().enumerate() {
        let b = bounds.get(k + 1).copied().unwrap_or(trace.horizon.max(a));
        while next_change < trace.sites.len() && trace.sites[next_change].at <= a {
            let c = &trace.sites[next_change];
            status[c.site] = c.status;
            next_change += 1;
        }
        let before_snap = snap;
        while snap + 1 < trace.routing.len() && trace.routing[snap + 1].at <= a {
            snap += 1;
        }
        let Some(routing) = trace.routing.get(snap) else {
            continue;
        };
        if order.is_empty() || snap != before_snap {
            order = (0..routing.clients.len()).collect();
            order.sort_by_key(|&i| routing.clients[i].switch_at);
        }
        let total = routing.clients.len().max(1) as f64;
        let serving = status.iter().position(|s| s.primary && s.up && !s.fenced);
        let Some(p) = serving else {
            push(a, 0.0);
            continue;
        };
        let at_p = |i: usize, t: SimTime| {
            let c = &routing.clients[i];
            let site = if t >= c.switch_at { c.after } else { c.before };
            site == p
        };
        let mut count = (0..routing.clients.len()).filter(|&i| at_p(i, a)).count() as i64;
        push(a, count as f64 / total);
        // Sweep the switches strictly inside (a, b).
        let start = order.partition_point(|&i| routing.clients[i].switch_at <= a);
        let mut j = start;
        while j < order.len() && routing.clients[order[j]].switch_at < b {
            let t = routing.clients[order[j]].switch_at;
            while j < order.len() && routing.clients[order[j]].switch_at == t {
                let c = &routing.clients[order[j]];
                count += i64::from(c.after == p) - i64::from(c.before == p);
                j += 1;
            }
            push(t, count as f64 / total);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The chart

/// What a lane shows over a span of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Up, acting as primary.
    Primary,
    /// Up, receiving replication.
    Standby,
    /// Up, holding no replica (e.g. a monitor-only site).
    Bystander,
    Down,
    /// Up but fenced by a failover (a false alarm's old primary).
    Fenced,
    Watching,
    AwaitingOperator,
    Draining,
    Promoting,
}

impl State {
    pub const SITE: [State; 5] = [
        State::Primary,
        State::Standby,
        State::Bystander,
        State::Down,
        State::Fenced,
    ];
    pub const PHASE: [State; 4] = [
        State::Watching,
        State::AwaitingOperator,
        State::Draining,
        State::Promoting,
    ];

    pub fn label(self) -> &'static str {
        match self {
            State::Primary => "primary",
            State::Standby => "standby",
            State::Bystander => "no replica",
            State::Down => "down",
            State::Fenced => "fenced",
            State::Watching => "watching",
            State::AwaitingOperator => "awaiting operator",
            State::Draining => "draining",
            State::Promoting => "promoting",
        }
    }

    fn color(self) -> RGBColor {
        match self {
            State::Primary => RGBColor(44, 160, 44),
            State::Standby => RGBColor(31, 119, 180),
            State::Bystander => RGBColor(170, 200, 225),
            State::Down => RGBColor(214, 39, 40),
            State::Fenced => RGBColor(110, 110, 110),
            State::Watching => RGBColor(225, 225, 225),
            State::AwaitingOperator => RGBColor(240, 200, 40),
            State::Draining => RGBColor(255, 127, 14),
            State::Promoting => RGBColor(148, 103, 189),
        }
    }
}

/// A span of one state, in seconds since the start of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub from_s: f64,
    pub to_s: f64,
    pub state: State,
}

#[derive(Clone, Debug)]
pub struct Lane {
    pub name: String,
    pub spans: Vec<Span>,
}

/// Replication lag seen at one standby.
#[derive(Clone, Debug)]
pub struct LagSeries {
    pub site: String,
    /// (time s, lag s): per time bucket, the delivery with the worst
    /// per-write lag (commit at the primary to apply at the standby).
    pub points: Vec<(f64, f64)>,
}

/// Site states, failover phases, replication lag and clients served, over a
/// window of one run, with the key moments as numbered vertical lines.
#[derive(Clone, Debug)]
pub struct Timeline {
    pub title: String,
    /// The window shown, seconds since the start of the run.
    pub from_s: f64,
    pub to_s: f64,
    /// One lane per datacenter (scenario order), then the failover manager.
    pub lanes: Vec<Lane>,
    pub lag: Vec<LagSeries>,
    /// Step function (time s, percent of clients a serving primary accepts).
    pub clients: Vec<(f64, f64)>,
    /// (number in the key-moment table, time s), inside the window.
    pub markers: Vec<(usize, f64)>,
}

/// Buckets per window for the lag series: about one per two pixels.
const LAG_BUCKETS: usize = 450;

/// Appends a span, merging it into the previous one when the lane looks the
/// same (a down site that is also fenced, then demoted, stays "down").
fn push_span(spans: &mut Vec<Span>, a: f64, b: f64, state: State) {
    if b <= a {
        return;
    }
    match spans.last_mut() {
        Some(l) if l.state == state && l.to_s == a => l.to_s = b,
        _ => spans.push(Span {
            from_s: a,
            to_s: b,
            state,
        }),
    }
}

fn s_of(t: SimTime) -> f64 {
    t.as_secs_f64()
}

impl Timeline {
    /// The timeline of `trace` between `from` and `to`.
    pub fn new(s: &Scenario, trace: &Trace, title: String, from: SimTime, to: SimTime) -> Timeline {
        let (from_s, to_s) = (s_of(from), s_of(to.max(from)));
        let clip = |a: f64, b: f64| (a.max(from_s), b.min(to_s));
        let end_s = s_of(trace.horizon);
        let replicas: Vec<SiteId> = std::iter::once(s.topology.primary)
            .chain(s.topology.standbys.iter().copied())
            .collect();
        let mut lanes: Vec<Lane> = s
            .datacenters
            .iter()
            .enumerate()
            .map(|(site, dc)| {
                let changes: Vec<_> = trace.sites.iter().filter(|c| c.site == site).collect();
                let mut spans = Vec::new();
                for (k, c) in changes.iter().enumerate() {
                    let next = changes.get(k + 1).map_or(end_s, |n| s_of(n.at));
                    let st = c.status;
                    let state = if !st.up {
                        State::Down
                    } else if st.fenced {
                        State::Fenced
                    } else if st.primary {
                        State::Primary
                    } else if replicas.contains(&site) {
                        State::Standby
                    } else {
                        State::Bystander
                    };
                    let (a, b) = clip(s_of(c.at), next);
                    push_span(&mut spans, a, b, state);
                }
                Lane {
                    name: dc.name.clone(),
                    spans,
                }
            })
            .collect();
        let mut phase_spans = Vec::new();
        for (k, p) in trace.phases.iter().enumerate() {
            let next = trace.phases.get(k + 1).map_or(end_s, |n| s_of(n.at));
            let state = match p.phase {
                Phase::Watching => State::Watching,
                Phase::AwaitingOperator => State::AwaitingOperator,
                Phase::Draining { .. } => State::Draining,
                Phase::Promoting { .. } => State::Promoting,
            };
            let (a, b) = clip(s_of(p.at), next);
            push_span(&mut phase_spans, a, b, state);
        }
        lanes.push(Lane {
            name: "failover".into(),
            spans: phase_spans,
        });

        let width = (to_s - from_s).max(1e-9) / LAG_BUCKETS as f64;
        let mut lag = Vec::new();
        for (site, dc) in s.datacenters.iter().enumerate() {
            let samples: Vec<_> = trace
                .lag
                .iter()
                .filter(|l| l.site == site && (from..=to).contains(&l.at))
                .collect();
            if samples.is_empty() {
                continue;
            }
            let mut points: Vec<(f64, f64)> = Vec::new();
            let mut last_bucket = usize::MAX;
            for l in &samples {
                let (t, v) = (s_of(l.at), l.oldest.as_secs_f64());
                let b = (((t - from_s) / width) as usize).min(LAG_BUCKETS - 1);
                match points.last_mut() {
                    Some(p) if b == last_bucket => {
                        if v > p.1 {
                            *p = (t, v);
                        }
                    }
                    _ => points.push((t, v)),
                }
                last_bucket = b;
            }
            lag.push(LagSeries {
                site: dc.name.clone(),
                points,
            });
        }

        let served = clients_served(trace);
        let mut clients: Vec<(f64, f64)> = Vec::new();
        for (k, &(t, v)) in served.iter().enumerate() {
            let next = served.get(k + 1).map_or(end_s, |n| s_of(n.0));
            if next < from_s || s_of(t) > to_s {
                continue;
            }
            clients.push((s_of(t).max(from_s), 100.0 * v));
        }

        let markers = key_moments(s, trace)
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.at.map(|t| (i + 1, s_of(t))))
            .filter(|&(_, t)| t >= from_s && t <= to_s)
            .collect();
        Timeline {
            title,
            from_s,
            to_s,
            lanes,
            lag,
            clients,
            markers,
        }
    }

    /// Minutes for long windows, seconds otherwise.
    fn unit(&self) -> (&'static str, f64) {
        if self.to_s - self.from_s > 600.0 {
            ("min", 60.0)
        } else {
            ("s", 1.0)
        }
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

const LABEL_AREA: u32 = 95;

impl Chart for Timeline {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (unit, per) = self.unit();
        let (x0, x1) = (
            self.from_s / per,
            (self.to_s / per).max(self.from_s / per + 1e-9),
        );
        let area = area.titled(&self.title, ("sans-serif", 20))?;
        let (legend, rest) = area.split_vertically(46);
        self.draw_legend(&legend)?;
        let h = rest.dim_in_pixel().1 as i32;
        let n = self.lanes.len() as i32;
        let lanes_h = (28 * n + 16).clamp(90, h * 45 / 100);
        let parts =
            rest.split_by_breakpoints([] as [i32; 0], [lanes_h, lanes_h + (h - lanes_h) / 2]);
        let (lanes_area, lag_area, clients_area) = (&parts[0], &parts[1], &parts[2]);
        let text = ("sans-serif", 13);
        let marker_style = BLACK.mix(0.55).stroke_width(1);

        // Lanes: datacenters top to bottom, the failover manager last.
        {
            let names: Vec<&str> = self.lanes.iter().map(|l| l.name.as_str()).collect();
            let mut chart = ChartBuilder::on(lanes_area)
                .margin_left(10)
                .margin_right(20)
                .margin_top(14)
                .y_label_area_size(LABEL_AREA)
                .build_cartesian_2d(x0..x1, 0.0..n as f64)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(0)
                .y_labels(names.len() * 2 + 1)
                .y_label_formatter(&|y| lane_name(&names, *y))
                .y_label_style(text)
                .draw()?;
            for (i, lane) in self.lanes.iter().enumerate() {
                let y = (n - 1 - i as i32) as f64;
                chart.draw_series(lane.spans.iter().map(|s| {
                    Rectangle::new(
                        [(s.from_s / per, y + 0.18), (s.to_s / per, y + 0.82)],
                        s.state.color().filled(),
                    )
                }))?;
            }
            // Moments whose labels would overlap share one ("2,3,4").
            let label_font: TextStyle = ("sans-serif", 13).into();
            let width = |t: &str| {
                lanes_area
                    .estimate_text_size(t, &label_font)
                    .map_or(8 * t.len() as i32, |s| s.0 as i32)
            };
            let mut groups: Vec<(i32, i32, String)> = Vec::new();
            for &(k, t) in &self.markers {
                let x = t / per;
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    vec![(x, 0.0), (x, n as f64)],
                    4,
                    3,
                    marker_style,
                )))?;
                let (px, py) = chart.backend_coord(&(x, n as f64));
                match groups.last_mut() {
                    Some(g) if px < g.0 + width(&g.2) + 6 => {
                        g.2.push(',');
                        g.2.push_str(&k.to_string());
                    }
                    _ => groups.push((px, py, k.to_string())),
                }
            }
            let base = lanes_area.get_base_pixel();
            for (px, py, label) in &groups {
                lanes_area.draw(&Text::new(
                    label.clone(),
                    (px - base.0 - 3, py - base.1 - 14),
                    label_font.clone(),
                ))?;
            }
        }

        // Replication lag per standby.
        {
            let hi = self
                .lag
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .fold(0.0f64, f64::max);
            let hi = if hi > 0.0 { hi * 1.15 } else { 1.0 };
            let mut chart = ChartBuilder::on(lag_area)
                .margin_left(10)
                .margin_right(20)
                .margin_top(6)
                .y_label_area_size(LABEL_AREA)
                .build_cartesian_2d(x0..x1, 0.0..hi)?;
            chart
                .configure_mesh()
                .x_labels(0)
                .y_labels(4)
                .y_label_formatter(&|v| tick(*v))
                .y_desc("lag (s)")
                .label_style(text)
                .draw()?;
            // Dots, not lines: joining bucket maxima draws zigzags that are
            // not in the data, and a silent stream should look silent.
            for (i, l) in self.lag.iter().enumerate() {
                let c = color(i);
                chart
                    .draw_series(
                        l.points
                            .iter()
                            .map(|p| Circle::new((p.0 / per, p.1), 2, c.filled())),
                    )?
                    .label(format!("worst per-write lag at {}", l.site))
                    .legend(move |(x, y)| Circle::new((x + 10, y), 3, c.filled()));
            }
            for &(_, t) in &self.markers {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    vec![(t / per, 0.0), (t / per, hi)],
                    4,
                    3,
                    marker_style,
                )))?;
            }
            if !self.lag.is_empty() {
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(text)
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()?;
            }
        }

        // Clients whose writes a serving primary accepts.
        {
            let mut chart = ChartBuilder::on(clients_area)
                .margin_left(10)
                .margin_right(20)
                .margin_top(6)
                .margin_bottom(4)
                .x_label_area_size(40)
                .y_label_area_size(LABEL_AREA)
                .build_cartesian_2d(x0..x1, 0.0..105.0)?;
            chart
                .configure_mesh()
                .y_labels(3)
                .x_labels(10)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .x_desc(format!("time since the start of the run ({unit})"))
                .y_desc("clients served (%)")
                .label_style(text)
                .draw()?;
            let mut steps: Vec<(f64, f64)> = Vec::with_capacity(self.clients.len() * 2 + 1);
            for &(t, v) in &self.clients {
                if let Some(&(_, prev)) = steps.last() {
                    steps.push((t / per, prev));
                }
                steps.push((t / per, v));
            }
            if let Some(&(_, last)) = steps.last() {
                steps.push((x1, last));
            }
            chart.draw_series(LineSeries::new(steps, color(2).stroke_width(2)))?;
            for &(_, t) in &self.markers {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    vec![(t / per, 0.0), (t / per, 105.0)],
                    4,
                    3,
                    marker_style,
                )))?;
            }
        }
        Ok(())
    }
}

impl Timeline {
    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let font: TextStyle = ("sans-serif", 13).into();
        let mut rows: [Vec<State>; 2] = [Vec::new(), Vec::new()];
        let used = |st: &State| {
            self.lanes
                .iter()
                .any(|l| l.spans.iter().any(|s| s.state == *st))
        };
        rows[0].extend(State::SITE.iter().copied().filter(used));
        rows[1].extend(State::PHASE.iter().copied().filter(used));
        for (r, states) in rows.iter().enumerate() {
            let y = 4 + 20 * r as i32;
            let mut x = 10 + LABEL_AREA as i32;
            let head = if r == 0 { "sites:" } else { "failover:" };
            area.draw(&Text::new(head, (10, y), font.clone()))?;
            for st in states {
                area.draw(&Rectangle::new(
                    [(x, y + 1), (x + 14, y + 13)],
                    st.color().filled(),
                ))?;
                area.draw(&Text::new(st.label(), (x + 18, y), font.clone()))?;
                let w = area
                    .estimate_text_size(st.label(), &font)
                    .map(|s| s.0 as i32)
                    .unwrap_or(60);
                x += 18 + w + 16;
            }
        }
        Ok(())
    }
}

/// Axis numbers without needless decimals ("10", "2.5", "0.25").
fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 * v.abs().max(1.0) {
        format!("{:.0}", v.round())
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_string()
    }
}

/// Lane names sit at the centre of each lane (ticks every half unit).
fn lane_name(names: &[&str], y: f64) -> String {
    let centre = y - 0.5;
    let i = centre.round();
    if (centre - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
        let name = names[names.len() - 1 - i as usize];
        if name.chars().count() > 14 {
            let mut s: String = name.chars().take(13).collect();
            s.push('…');
            s
        } else {
            name.to_string()
        }
    } else {
        String::new()
    }
}

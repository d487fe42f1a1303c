//! The primary's write log and its replication streams to the standbys.
//!
//! Streams are in order (like a TCP connection): a standby applies a prefix of
//! the log, so "what a site has" is one sequence number. A stream that loses its
//! connection is reset (its messages in flight are void) and resends from the
//! standby's applied position when it reconnects. When the primary fails,
//! messages that had fully left it still arrive; what was still queued in its
//! transmitter, or waiting for a retransmission, is lost with it.

use std::collections::VecDeque;

use crate::model::{ReplicationMode, Shipping, SiteId};

use super::connection::Connection;
use super::event::{Conn, Event, StreamId};
use super::network::Undelivered;
use super::world::{Phase, World};
use crate::base::time::{SimDuration, SimTime};

/// What a write log keeps per write: its commit time and size, and whatever
/// else the model needs when the write is confirmed.
pub trait LogRecord: Copy {
    fn commit(&self) -> SimTime;
    fn size_bytes(&self) -> u32;
}

/// What a log keeps per write until every receiver has it and its client is
/// answered (the primary's log, and each active site's).
#[derive(Clone, Copy, Debug)]
pub struct WriteRecord {
    pub commit: SimTime,
    pub size_bytes: u32,
    /// Client group (for the client's round-trip time).
    pub group: u16,
    /// Admission wait (queueing at capacity), added to the write's latency.
    pub wait: SimDuration,
}

impl LogRecord for WriteRecord {
    #[inline]
    fn commit(&self) -> SimTime {
        self.commit
    }

    #[inline]
    fn size_bytes(&self) -> u32 {
        self.size_bytes
    }
}

/// Writes of an aggregate period of a horizon run (`sim::horizon`), kept as
/// one span: no per-write records exist for them. Their commit times are
/// spread evenly over `[from, to]` (given their number, Poisson arrival times
/// are uniform), and each has the mean size.
#[derive(Clone, Copy, Debug)]
struct Span {
    first: u64,
    last: u64,
    from: SimTime,
    to: SimTime,
    bytes_each: f64,
}

impl Span {
    fn commit_of(&self, seq: u64) -> SimTime {
        let n = (self.last - self.first + 1) as f64;
        let at = (seq - self.first) as f64 + 0.5;
        self.from + SimDuration(((self.to - self.from).0 as f64 * at / n) as u64)
    }
}

/// Writes committed at one site (the primary; in active-active, each
/// origin), numbered from 1. Older writes of aggregate periods are spans
/// (all below `base`); records from `base` on.
pub struct Log<R: LogRecord = WriteRecord> {
    /// Mean write size, for writes no longer in the log.
    pub mean_size: f64,
    spans: VecDeque<Span>,
    base: u64,
    records: VecDeque<R>,
    /// Highest committed sequence.
    pub committed: u64,
    /// Highest sequence acknowledged to its client (acknowledgement is in order).
    pub acked: u64,
}

impl<R: LogRecord> Log<R> {
    pub fn new() -> Log<R> {
        Log {
            mean_size: 0.0,
            spans: VecDeque::new(),
            base: 1,
            records: VecDeque::with_capacity(4096),
            committed: 0,
            acked: 0,
        }
    }

    #[inline]
    pub fn append(&mut self, r: R) -> u64 {
        self.records.push_back(r);
        self.committed += 1;
        self.committed
    }

    /// The record of write `seq` (which must be at or after `base`).
    #[inline]
    pub fn get(&self, seq: u64) -> &R {
        &self.records[(seq - self.base) as usize]
    }

    /// The record of write `seq`, if the log keeps it as a record.
    #[inline]
    pub fn record(&self, seq: u64) -> Option<&R> {
        seq.checked_sub(self.base)
            .and_then(|i| self.records.get(i as usize))
    }

    /// When write `seq` committed (estimated within a span).
    pub fn commit_of(&self, seq: u64) -> SimTime {
        if seq >= self.base {
            return self.get(seq).commit();
        }
        self.spans
            .iter()
            .find(|s| s.first <= seq && seq <= s.last)
            .map_or(SimTime::ZERO, |s| s.commit_of(seq))
    }

    /// Drops writes below `keep_from` (every reader is past them).
    #[inline]
    pub fn trim(&mut self, keep_from: u64) {
        if !self.spans.is_empty() {
            self.trim_spans(keep_from);
        }
        while self.base < keep_from && !self.records.is_empty() {
            self.records.pop_front();
            self.base += 1;
        }
    }

    fn trim_spans(&mut self, keep_from: u64) {
        while let Some(s) = self.spans.front_mut() {
            if s.last < keep_from {
                self.spans.pop_front();
            } else {
                if s.first < keep_from {
                    let from = s.commit_of(keep_from);
                    s.first = keep_from;
                    s.from = from;
                }
                break;
            }
        }
    }

    /// Discards writes after `last` (a new primary never had them).
    pub fn truncate(&mut self, last: u64) {
        if last >= self.committed {
            return;
        }
        if last + 1 >= self.base {
            let keep = (last + 1 - self.base) as usize;
            self.records.truncate(keep);
        } else {
            self.records.clear();
            self.base = last + 1;
            while self.spans.back().is_some_and(|s| s.first > last) {
                self.spans.pop_back();
            }
            if let Some(s) = self.spans.back_mut()
                && s.last > last
            {
                let to = s.commit_of(last);
                s.last = last;
                s.to = to;
            }
        }
        self.committed = last;
        self.acked = self.acked.min(last);
    }

    /// The first write kept as a record (older ones are spans).
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The oldest sequence still in the log.
    pub fn first(&self) -> u64 {
        self.spans.front().map_or(self.base, |s| s.first)
    }

    /// Bytes of writes `from..=to`; writes no longer in the log (a resync
    /// from the primary's data) count at the mean write size.
    pub fn bytes(&self, from: u64, to: u64) -> f64 {
        let mut total = self.first().min(to + 1).saturating_sub(from) as f64 * self.mean_size;
        for s in &self.spans {
            let (a, b) = (from.max(s.first), to.min(s.last));
            if a <= b {
                total += (b - a + 1) as f64 * s.bytes_each;
            }
        }
        let from = from.max(self.base);
        total
            + (from..=to)
                .map(|s| self.get(s).size_bytes() as f64)
                .sum::<f64>()
    }

    /// Commits `count` writes of an aggregate period `[from, to]`, all
    /// acknowledged. With `keep`, writes from `keep` on stay readable (a
    /// disconnected standby will need them): the records among them become a
    /// span too. Without, the log restarts empty after them.
    pub fn commit_aggregate(
        &mut self,
        count: u64,
        from: SimTime,
        to: SimTime,
        bytes_each: f64,
        keep: Option<u64>,
    ) {
        match keep {
            Some(keep) => {
                self.trim(keep);
                if !self.records.is_empty() {
                    let n = self.records.len() as f64;
                    let bytes: f64 = self.records.iter().map(|r| r.size_bytes() as f64).sum();
                    self.spans.push_back(Span {
                        first: self.base,
                        last: self.committed,
                        from: self.records.front().map_or(from, |r| r.commit()),
                        to: self.records.back().map_or(from, |r| r.commit()),
                        bytes_each: bytes / n,
                    });
                    self.records.clear();
                }
                if count > 0 {
                    self.spans.push_back(Span {
                        first: self.committed + 1,
                        last: self.committed + count,
                        from,
                        to,
                        bytes_each,
                    });
                }
            }
            None => {
                self.spans.clear();
                self.records.clear();
            }
        }
        self.committed += count;
        self.acked = self.committed;
        self.base = self.committed + 1;
    }

    /// Calls `f(commit, count)` for the writes `from..=to` of spans, in up to
    /// `BINS` groups per span of writes with (nearly) the same commit time.
    pub fn for_each_span_group(&self, from: u64, to: u64, mut f: impl FnMut(SimTime, u64)) {
        const BINS: u64 = 32;
        for s in &self.spans {
            let (a, b) = (from.max(s.first), to.min(s.last));
            if a > b {
                continue;
            }
            let n = b - a + 1;
            let per = n.div_ceil(BINS);
            let mut at = a;
            while at <= b {
                let end = (at + per - 1).min(b);
                f(s.commit_of((at + end) / 2), end - at + 1);
                at = end + 1;
            }
        }
    }
}

impl<R: LogRecord> Default for Log<R> {
    fn default() -> Self {
        Self::new()
    }
}

/// The one resync rule of every connection: a receiver that has `applied`
/// resumes from there (at most what `log` committed) and gets everything it
/// lacks in one transfer: the log's records, and writes no longer in the log
/// (a rejoining site behind the log's start) at the mean write size
/// (`Log::bytes`). Returns (from, to, bytes).
pub fn resync<R: LogRecord>(log: &Log<R>, applied: u64) -> (u64, u64, f64) {
    let committed = log.committed;
    let from = applied.min(committed);
    let bytes = if from < committed {
        log.bytes(from + 1, committed)
    } else {
        0.0
    };
    (from, committed, bytes)
}

/// Replication from the current primary to one standby.
#[derive(Clone, Debug)]
pub struct Stream {
    pub dest: SiteId,
    pub conn: Connection,
}

impl World<'_> {
    pub(super) fn streams_from(&mut self, source: SiteId, standbys: &[SiteId]) -> Vec<Stream> {
        let mut out = Vec::with_capacity(standbys.len());
        for &dest in standbys.iter().filter(|&&d| d != source) {
            let applied = self.sites[dest].applied;
            let link = self.path_between(source, dest);
            let epoch = self.next_epoch();
            out.push(Stream {
                dest,
                conn: Connection::open(link, epoch, applied),
            });
        }
        out
    }

    pub(super) fn start_replication(&mut self) {
        if let Shipping::Periodic { interval } = self.scenario.replication.shipping {
            self.next_ship_tick = self.now + interval;
            self.schedule_in(interval, Event::ShipTick);
        }
    }

    /// A write committed at the primary: log it, ship it or wait for the batch,
    /// and acknowledge it now if the mode does not wait for standbys.
    #[inline]
    pub(super) fn commit_write(&mut self, group: u16, size_bytes: f64, wait: SimDuration) {
        let seq = self.log.append(WriteRecord {
            commit: self.now,
            size_bytes: size_bytes as u32,
            group,
            wait,
        });
        let primary = self.primary;
        self.sites[primary].applied = seq;
        self.sites[primary].applied_commit = self.now;
        if self.scenario.replication.mode == ReplicationMode::Async || self.streams.is_empty() {
            self.log.acked = seq;
            let rtt = self.clients.rtt[group as usize][primary];
            self.metrics.record_write_latency(rtt + wait);
        }
        if self.scenario.replication.shipping == Shipping::Continuous {
            for i in 0..self.streams.len() {
                if self.streams[i].conn.connected {
                    self.send_writes(Conn::Standby(i as StreamId), seq, size_bytes);
                }
            }
        }
        self.trim_log();
    }

    /// Ships everything committed but not yet sent on every connected stream.
    pub(super) fn ship_backlog(&mut self) {
        for i in 0..self.streams.len() {
            let s = &self.streams[i].conn;
            if s.connected && s.shipped < self.log.committed {
                let bytes = self.log.bytes(s.shipped + 1, self.log.committed);
                self.send_writes(Conn::Standby(i as StreamId), self.log.committed, bytes);
            }
        }
    }

    /// The primary died: of each stream's messages in flight, only those that
    /// had entirely left it (in order, none missing before them) still count.
    pub(super) fn cut_streams_at_primary_failure(&mut self) {
        let now = self.now;
        for s in &mut self.streams {
            s.conn.cut_at(now, self.sites[s.dest].applied);
        }
    }

    /// Resets stream `i` (see `reset_connection`).
    pub(super) fn reset_stream(&mut self, i: StreamId, why: Undelivered) {
        self.reset_connection(Conn::Standby(i), why);
    }

    /// Reconnects stream `i` if both ends and the link are up (see `reconnect`).
    pub(super) fn reconnect_stream(&mut self, i: StreamId) {
        self.reconnect(Conn::Standby(i));
    }

    /// Where a reconnecting stream to `dest` resumes, up to where, and the
    /// bytes it sends at once (`resync`; periodic shipping sends the backlog
    /// with the next batch instead).
    pub(super) fn standby_resync(&self, dest: SiteId) -> (u64, u64, Option<f64>) {
        let (from, to, bytes) = resync(&self.log, self.sites[dest].applied);
        let continuous = self.scenario.replication.shipping == Shipping::Continuous;
        (from, to, continuous.then_some(bytes))
    }

    pub(super) fn on_ship_tick(&mut self) {
        // Ticks stop in an aggregate period and restart on the same grid.
        if self.now != self.next_ship_tick || self.quiet {
            return;
        }
        if let Shipping::Periodic { interval } = self.scenario.replication.shipping {
            self.next_ship_tick = self.now + interval;
            self.schedule_in(interval, Event::ShipTick);
        }
        if self.primary_serving() {
            self.ship_backlog();
        }
    }

    /// A delivery of stream `i` up to `to` reached its standby, which is up.
    pub(super) fn standby_received(&mut self, i: StreamId, to: u64) {
        let dest = self.streams[i as usize].dest;
        if self.sites[dest].stalled > 0 {
            // Received, not applied (nor confirmed) until the stall ends.
            let held = &mut self.sites[dest].held_to;
            *held = (*held).max(to);
            return;
        }
        self.apply_delivered(i, to);
    }

    /// The standby of stream `i` applies writes up to `to`, confirms them,
    /// and may complete a drain.
    pub(super) fn apply_delivered(&mut self, i: StreamId, to: u64) {
        let dest = self.streams[i as usize].dest;
        let to = to.min(self.log.committed);
        let from = self.sites[dest].applied + 1;
        if from < self.log.base() {
            let (now, metrics) = (self.now, &mut self.metrics);
            self.log.for_each_span_group(from, to, |commit, n| {
                metrics.record_replication_lag_n(now - commit, n);
            });
        }
        for seq in from.max(self.log.base())..=to {
            let lag = self.now - self.log.get(seq).commit;
            self.metrics.record_replication_lag(lag);
        }
        if to >= from {
            self.sites[dest].applied = to;
            self.sites[dest].applied_commit = self.log.commit_of(to);
            if !self.failover.resyncs.is_empty() {
                self.check_resynced(dest);
            }
        }
        // Every mode confirms what it applied (async too: the primary tracks
        // its standbys' positions, as streaming replication's feedback does);
        // only sync and semi-sync wait for it before acknowledging clients.
        if self.primary_serving() {
            self.send_confirmation(Conn::Standby(i), to);
        }
        if let Phase::Draining { target, .. } = self.failover.phase
            && target == dest
            && self.sites[target].applied >= self.streams[i as usize].conn.landing_to()
        {
            self.drain_complete();
        }
        self.trim_log();
    }

    /// Acknowledges, in order, every write that enough standbys have confirmed.
    pub(super) fn acknowledge_quorum(&mut self) {
        let need = self.scenario.replication.acks_required(self.streams.len());
        if need == 0 {
            return;
        }
        // The need-th highest confirmation: every write up to it has `need` acks.
        self.scratch.clear();
        self.scratch
            .extend(self.streams.iter().map(|s| s.conn.acked));
        self.scratch.sort_unstable_by(|a, b| b.cmp(a));
        let quorum = self.scratch[need - 1].min(self.log.committed);
        let primary = self.primary;
        while self.log.acked < quorum {
            self.log.acked += 1;
            let r = *self.log.get(self.log.acked);
            let rtt = self.clients.rtt[r.group as usize][primary];
            self.metrics
                .record_write_latency((self.now - r.commit) + rtt + r.wait);
        }
        self.trim_log();
    }

    #[inline]
    fn trim_log(&mut self) {
        let mut keep = self.log.acked + 1;
        for s in &self.streams {
            keep = keep.min(self.sites[s.dest].applied + 1);
        }
        self.log.trim(keep);
    }
}

#[cfg(test)]
mod tests {
    //! The write log: a ring buffer of records from `base` on, with older
    //! writes of aggregate periods kept as spans. Expected values are derived
    //! from the documented semantics (doc comments above): a span's writes
    //! are spread evenly over its interval at their mean size; writes no
    //! longer in the log count at the log's mean size.

    use super::*;

    const S: u64 = 1_000_000_000;

    fn rec(commit_s: f64, size_bytes: u32) -> WriteRecord {
        WriteRecord {
            commit: SimTime((commit_s * S as f64) as u64),
            size_bytes,
            group: 0,
            wait: SimDuration::ZERO,
        }
    }

    fn secs(t: SimTime) -> f64 {
        t.as_secs_f64()
    }

    /// Records: numbered from 1, readable from `base` on; trimming drops the
    /// oldest; bytes of trimmed writes count at the mean size; truncation
    /// discards the newest. Hand values: 5 writes of 100..500 B at 10..50 s.
    #[test]
    fn records_are_numbered_trimmed_and_truncated() {
        let mut log: Log = Log::new();
        log.mean_size = 250.0;
        for i in 1..=5u32 {
            assert_eq!(log.append(rec(10.0 * i as f64, 100 * i)), u64::from(i));
        }
        assert_eq!((log.committed, log.base(), log.first()), (5, 1, 1));
        assert_eq!(log.get(3).commit, SimTime(30 * S));
        assert_eq!(log.commit_of(4), SimTime(40 * S));
        assert_eq!(log.bytes(2, 4), 200.0 + 300.0 + 400.0);
        log.trim(3);
        assert_eq!((log.base(), log.first()), (3, 3));
        assert!(log.record(2).is_none() && log.record(3).is_some());
        // Writes 1 and 2 are gone: 2 x 250 B, then 300 + 400 + 500 B.
        assert_eq!(log.bytes(1, 5), 500.0 + 1200.0);
        log.acked = 5;
        log.truncate(4);
        assert_eq!((log.committed, log.acked), (4, 4));
        assert!(log.record(5).is_none() && log.record(4).is_some());
        // Truncating at or past the end changes nothing.
        log.truncate(9);
        assert_eq!(log.committed, 4);
    }

    /// The ring buffer is reused: appending and trimming 100,000 writes, at
    /// most 10 kept at a time, never grows it (memory per run does not grow
    /// with the number of writes, ARCHITECTURE.md).
    #[test]
    fn the_record_ring_does_not_grow_with_writes() {
        let mut log: Log = Log::new();
        let cap = log.records.capacity();
        for i in 1..=100_000u64 {
            log.append(rec(i as f64 * 1e-3, 64));
            log.trim(i.saturating_sub(9));
            assert!(log.records.len() <= 10);
        }
        assert_eq!(log.records.capacity(), cap);
        assert_eq!((log.committed, log.base()), (100_000, 99_991));
    }

    /// An aggregate period with `keep`: the records still needed become a
    /// span (at their mean size, over their commit interval), the period's
    /// writes another (evenly over [from, to]); both stay readable. Hand
    /// values: records 1, 2 (500 B and 700 B at 1 s and 2 s: span of 2 at
    /// 600 B over [1 s, 2 s]), then 10 writes of 1,000 B over [10 s, 20 s]:
    /// evenly spread means 1 s apart, all inside, centred on 15 s.
    #[test]
    fn aggregate_writes_are_spans_spread_evenly_at_their_mean_size() {
        let mut log: Log = Log::new();
        log.mean_size = 1000.0;
        log.append(rec(1.0, 500));
        log.append(rec(2.0, 700));
        log.commit_aggregate(10, SimTime(10 * S), SimTime(20 * S), 1000.0, Some(1));
        assert_eq!(
            (log.committed, log.acked, log.base(), log.first()),
            (12, 12, 13, 1)
        );
        assert_eq!(log.bytes(1, 12), 2.0 * 600.0 + 10.0 * 1000.0);
        assert_eq!(log.bytes(2, 4), 600.0 + 2.0 * 1000.0);
        let commits: Vec<f64> = (3..=12).map(|q| secs(log.commit_of(q))).collect();
        for w in commits.windows(2) {
            assert!((w[1] - w[0] - 1.0).abs() < 1e-6, "{commits:?}");
        }
        assert!(commits.iter().all(|&c| (10.0..=20.0).contains(&c)));
        let centre = commits.iter().sum::<f64>() / 10.0;
        assert!((centre - 15.0).abs() < 1e-6, "centre {centre}");
        let (c1, c2) = (secs(log.commit_of(1)), secs(log.commit_of(2)));
        assert!((1.0..=2.0).contains(&c1) && (1.0..=2.0).contains(&c2) && c1 < c2);
        assert!(((c1 + c2) / 2.0 - 1.5).abs() < 1e-6);
        // A record after the spans is read as a record again.
        assert_eq!(log.append(rec(30.0, 64)), 13);
        assert_eq!(log.bytes(12, 13), 1000.0 + 64.0);
        assert_eq!(log.get(13).commit, SimTime(30 * S));
        // Trimming into a span keeps its later writes, still in [10 s, 20 s].
        log.trim(5);
        assert_eq!(log.first(), 5);
        assert_eq!(log.bytes(5, 12), 8000.0);
        assert!((5..=12).all(|q| (10.0..=20.0).contains(&secs(log.commit_of(q)))));
        // Truncating inside a span drops its later writes and the records.
        log.truncate(8);
        assert_eq!(
            (log.committed, log.acked, log.base(), log.first()),
            (8, 8, 9, 5)
        );
        assert_eq!(log.bytes(5, 8), 4000.0);
        // Writes before the log count at the mean size.
        assert_eq!(log.bytes(1, 8), 4.0 * 1000.0 + 4000.0);
    }

    /// Without `keep` nobody needs the old writes: the log restarts empty
    /// after the period's writes, which are all acknowledged.
    #[test]
    fn aggregate_writes_without_a_reader_leave_an_empty_log() {
        let mut log: Log = Log::new();
        log.mean_size = 100.0;
        log.append(rec(1.0, 500));
        log.commit_aggregate(50, SimTime(2 * S), SimTime(7 * S), 100.0, None);
        assert_eq!(
            (log.committed, log.acked, log.base(), log.first()),
            (51, 51, 52, 52)
        );
        // Everything is before the log: 51 writes at the mean size.
        assert_eq!(log.bytes(1, 51), 5100.0);
        log.append(rec(8.0, 10));
        assert_eq!(log.get(52).size_bytes, 10);
    }

    /// Span groups: a span of 1,000 writes over [0 s, 100 s] is handed out in
    /// at most 32 groups whose counts total the writes asked for, each at a
    /// commit time inside the span; their count-weighted mean commit is the
    /// centre (50 s) within half a group's width (100 s / 32 / 2).
    #[test]
    fn span_groups_cover_every_write_once() {
        let mut log: Log = Log::new();
        log.commit_aggregate(1000, SimTime::ZERO, SimTime(100 * S), 1.0, Some(1));
        let mut groups = Vec::new();
        log.for_each_span_group(1, 1000, |t, n| groups.push((secs(t), n)));
        assert!(groups.len() <= 32, "{} groups", groups.len());
        assert_eq!(groups.iter().map(|g| g.1).sum::<u64>(), 1000);
        assert!(groups.iter().all(|g| (0.0..=100.0).contains(&g.0)));
        let mean = groups.iter().map(|g| g.0 * g.1 as f64).sum::<f64>() / 1000.0;
        assert!((mean - 50.0).abs() <= 100.0 / 64.0, "mean commit {mean}");
        // A sub-range: only its writes.
        let mut n = 0;
        log.for_each_span_group(101, 200, |t, k| {
            assert!((10.0..=20.0).contains(&secs(t)), "{t:?}");
            n += k;
        });
        assert_eq!(n, 100);
    }
}

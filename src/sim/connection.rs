//! One replication connection, whatever the architecture: a standby stream of
//! the current primary (active-passive) or a peer stream between active sites
//! (active-active, hybrid). Sending, voiding, resetting, reconnecting and
//! receiving are written once here; what a delivery or a confirmation means
//! to the receiver and the sender (applying to a site, acknowledging clients)
//! is the architecture's, in `replication` and `active_active`.

use std::collections::VecDeque;

use crate::base::time::SimTime;
use crate::model::SiteId;

use super::event::{Conn, Event};
use super::network::Undelivered;
use super::world::World;

/// The sender's side of one connection: what it sent and what came back.
#[derive(Clone, Debug)]
pub struct Connection {
    pub link: usize,
    /// Unique per connection: messages of another epoch are ignored on arrival.
    pub epoch: u32,
    pub connected: bool,
    /// Highest sequence sent in the current epoch.
    pub shipped: u64,
    /// Highest sequence the receiver has confirmed.
    pub acked: u64,
    /// Messages in flight, oldest first: (last left the sender, up to sequence).
    in_flight: VecDeque<(SimTime, u64)>,
    /// Deliveries beyond this sequence are void (the sender died before they left).
    valid_to: u64,
}

impl Connection {
    /// A connection over `link` whose receiver already has everything up to `from`.
    pub fn open(link: usize, epoch: u32, from: u64) -> Connection {
        Connection {
            link,
            epoch,
            connected: true,
            shipped: from,
            acked: from,
            in_flight: VecDeque::with_capacity(64),
            valid_to: u64::MAX,
        }
    }

    /// A message up to `to` left the sender at `left`.
    fn sent(&mut self, left: SimTime, to: u64) {
        debug_assert!(to >= self.shipped, "shipped {} then {to}", self.shipped);
        self.shipped = to;
        self.in_flight.push_back((left, to));
    }

    /// Disconnected with a new epoch; it resends from `resume_from`.
    fn reset(&mut self, epoch: u32, resume_from: u64) {
        self.void_in_flight(epoch);
        self.connected = false;
        self.shipped = resume_from;
    }

    /// Voids the messages in flight (a reset, or an aggregate period begins):
    /// deliveries of the old epoch are ignored.
    pub fn void_in_flight(&mut self, epoch: u32) {
        debug_assert_ne!(epoch, self.epoch, "a new epoch must differ");
        self.epoch = epoch;
        self.in_flight.clear();
        self.valid_to = u64::MAX;
    }

    /// Connected again from `from`: what the sender sends now is not void.
    fn reopen(&mut self, from: u64) {
        self.connected = true;
        self.valid_to = u64::MAX;
        self.shipped = from;
    }

    /// A delivery of `epoch` up to `to` arrived: whether it counts (of this
    /// connection, and left the sender before it died).
    fn receive(&mut self, epoch: u32, to: u64) -> bool {
        if self.epoch != epoch {
            return false;
        }
        debug_assert!(
            self.in_flight.front().is_some_and(|&(_, t)| t == to),
            "deliveries arrive in order"
        );
        self.in_flight.pop_front();
        to <= self.valid_to
    }

    /// The sender died at `now`: only messages that had entirely left it (in
    /// order, none missing before them) still land; the receiver had
    /// `applied`. Returns what the receiver will have.
    pub fn cut_at(&mut self, now: SimTime, applied: u64) -> u64 {
        let mut valid = applied;
        for &(left, to) in &self.in_flight {
            if left > now {
                break;
            }
            valid = to;
        }
        self.valid_to = valid;
        valid
    }

    /// The receiver has everything up to `committed` (an aggregate period ended).
    pub fn caught_up(&mut self, committed: u64) {
        self.shipped = committed;
        self.acked = committed;
    }

    /// What the receiver will have once everything valid in flight has landed.
    pub fn landing_to(&self) -> u64 {
        self.shipped.min(self.valid_to)
    }
}

impl World<'_> {
    pub(super) fn next_epoch(&mut self) -> u32 {
        self.epochs = self.epochs.wrapping_add(1);
        self.epochs
    }

    /// Connection `c`, if it still exists (standby streams are rebuilt at
    /// each promotion, so an old event may name one that is gone).
    fn connection(&self, c: Conn) -> Option<&Connection> {
        match c {
            Conn::Standby(i) => self.streams.get(i as usize).map(|s| &s.conn),
            Conn::Peer(p) => self.multi.as_deref()?.peer_conn(p as usize),
        }
    }

    fn connection_mut(&mut self, c: Conn) -> Option<&mut Connection> {
        match c {
            Conn::Standby(i) => self.streams.get_mut(i as usize).map(|s| &mut s.conn),
            Conn::Peer(p) => self.multi.as_deref_mut()?.peer_conn_mut(p as usize),
        }
    }

    /// (sender, receiver) of connection `c`.
    fn ends(&self, c: Conn) -> (SiteId, SiteId) {
        match c {
            Conn::Standby(i) => (self.primary, self.streams[i as usize].dest),
            Conn::Peer(p) => self.multi.as_deref().expect("peers").peer_ends(p as usize),
        }
    }

    /// The sending site of `c`: the primary, or the peer stream's origin.
    #[inline]
    fn sender(&self, c: Conn) -> SiteId {
        match c {
            Conn::Standby(_) => self.primary,
            Conn::Peer(p) => {
                self.multi
                    .as_deref()
                    .expect("peers")
                    .peer_ends(p as usize)
                    .0
            }
        }
    }

    /// The sender may send: a serving primary, or an origin site that is up.
    #[inline]
    fn sender_serving(&self, c: Conn) -> bool {
        match c {
            Conn::Standby(_) => self.primary_serving(),
            Conn::Peer(_) => self.sites[self.ends(c).0].is_up(),
        }
    }

    /// Sends writes `(shipped, to]` on `c` as one message of `bytes`.
    #[inline]
    pub(super) fn send_writes(&mut self, c: Conn, to: u64, bytes: f64) {
        let sender = self.sender(c);
        let conn = self.connection(c).expect("connection");
        let (link, epoch) = (conn.link, conn.epoch);
        let spec = &self.scenario.links[link];
        match self
            .network
            .send_stream(spec, link, sender, self.now, bytes, &mut self.rng.network)
        {
            Ok(t) => {
                if self.cross_region[link] {
                    self.metrics.cross_region_bytes += bytes;
                }
                self.connection_mut(c).expect("connection").sent(t.sent, to);
                self.schedule(t.arrival, Event::delivered(c, epoch, to));
            }
            Err(e) => self.reset_connection(c, e),
        }
    }

    /// The receiver of `c` confirms writes up to `to` to the sender.
    #[inline]
    pub(super) fn send_confirmation(&mut self, c: Conn, to: u64) {
        let (_, receiver) = self.ends(c);
        let conn = self.connection(c).expect("connection");
        let (link, epoch) = (conn.link, conn.epoch);
        let spec = &self.scenario.links[link];
        let bytes = self.scenario.replication.ack_size_bytes;
        match self
            .network
            .send_stream(spec, link, receiver, self.now, bytes, &mut self.rng.network)
        {
            Ok(t) => self.schedule(t.arrival, Event::confirmed(c, epoch, to)),
            Err(e) => self.reset_connection(c, e),
        }
    }

    /// Voids the messages in flight on `c`; it resumes from the receiver's
    /// applied position when it reconnects (at once after a lost link or
    /// site, or after the back-off when the retransmissions ran out).
    pub(super) fn reset_connection(&mut self, c: Conn, why: Undelivered) {
        let epoch = self.next_epoch();
        let resume_from = self.applied_over(c);
        let sender = self.sender(c);
        let now = self.now;
        let conn = self.connection_mut(c).expect("connection");
        conn.reset(epoch, resume_from);
        let link = conn.link;
        let spec = &self.scenario.links[link];
        self.network.reset_order(spec, link, sender, now);
        if let Undelivered::AttemptsExhausted { gave_up_after } = why {
            // The sender notices the dead connection and reconnects.
            let retry = gave_up_after + spec.retransmit_timeout;
            self.schedule_in(retry, Event::reconnect(c, epoch));
        }
    }

    /// The receiver's applied position on `c`, as the sender resumes from it.
    fn applied_over(&self, c: Conn) -> u64 {
        match c {
            Conn::Standby(i) => {
                let dest = self.streams[i as usize].dest;
                self.sites[dest].applied.min(self.log.committed)
            }
            Conn::Peer(p) => self
                .multi
                .as_deref()
                .expect("peers")
                .peer_applied(p as usize),
        }
    }

    /// Reconnects `c` if both ends and the link are up, and catches up.
    pub(super) fn reconnect(&mut self, c: Conn) {
        let Some(conn) = self.connection(c) else {
            return;
        };
        let (_, receiver) = self.ends(c);
        if conn.connected
            || !self.sender_serving(c)
            || !self.sites[receiver].is_up()
            || !self.network.links[conn.link].is_up()
        {
            return;
        }
        let (from, to, bytes) = match c {
            Conn::Standby(_) => self.standby_resync(receiver),
            Conn::Peer(p) => self.peer_resync(p as usize),
        };
        self.connection_mut(c).expect("connection").reopen(from);
        if let Some(bytes) = bytes
            && from < to
        {
            self.send_writes(c, to, bytes);
        }
    }

    pub(super) fn on_reconnect(&mut self, c: Conn, epoch: u32) {
        if self.connection(c).is_some_and(|x| x.epoch == epoch) {
            self.reconnect(c);
        }
    }

    #[inline]
    pub(super) fn on_delivered(&mut self, c: Conn, epoch: u32, to: u64) {
        // One lookup for the connection and its receiver (the hot path).
        let (counts, receiver) = match c {
            Conn::Standby(i) => match self.streams.get_mut(i as usize) {
                Some(s) => (s.conn.receive(epoch, to), s.dest),
                None => return,
            },
            Conn::Peer(p) => {
                let m = self.multi.as_deref_mut().expect("peers");
                let (_, dest) = m.peer_ends(p as usize);
                match m.peer_conn_mut(p as usize) {
                    Some(conn) => (conn.receive(epoch, to), dest),
                    None => return,
                }
            }
        };
        if !counts || !self.sites[receiver].is_up() {
            return;
        }
        match c {
            Conn::Standby(i) => self.standby_received(i, to),
            Conn::Peer(p) => self.peer_received(p as usize, to),
        }
    }

    #[inline]
    pub(super) fn on_confirmed(&mut self, c: Conn, epoch: u32, to: u64) {
        let serving = self.sender_serving(c);
        let Some(conn) = self.connection_mut(c) else {
            return;
        };
        if conn.epoch != epoch || !serving {
            return;
        }
        conn.acked = conn.acked.max(to);
        match c {
            Conn::Standby(_) => self.acknowledge_quorum(),
            Conn::Peer(p) => self.acknowledge_in_region(p as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The connection's bookkeeping on its own, against the documented
    //! semantics (docs/scenarios.md, "What a failed primary loses"): in-order
    //! deliveries, epochs that void old messages, and the cut at a sender's
    //! failure that keeps only what had fully left it.

    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime(s * 1_000_000_000)
    }

    #[test]
    fn deliveries_count_in_order_within_their_epoch() {
        let mut c = Connection::open(0, 7, 10);
        assert_eq!((c.shipped, c.acked, c.landing_to()), (10, 10, 10));
        c.sent(at(1), 12);
        c.sent(at(2), 15);
        assert_eq!(c.landing_to(), 15);
        // Another epoch's delivery is ignored and leaves the queue alone.
        assert!(!c.receive(6, 12));
        assert!(c.receive(7, 12));
        assert!(c.receive(7, 15));
    }

    #[test]
    fn a_cut_keeps_only_the_messages_that_had_left() {
        let mut c = Connection::open(0, 1, 0);
        c.sent(at(1), 3);
        c.sent(at(5), 8); // still leaving the sender at t = 4
        c.sent(at(6), 9);
        assert_eq!(c.cut_at(at(4), 0), 3, "only the first had left");
        assert_eq!(c.landing_to(), 3);
        assert!(c.receive(1, 3));
        assert!(!c.receive(1, 8), "left after the failure: void");
        // A cut before anything left: the receiver keeps what it had.
        let mut d = Connection::open(0, 2, 4);
        d.sent(at(3), 6);
        assert_eq!(d.cut_at(at(2), 4), 4);
    }

    #[test]
    fn a_reset_voids_everything_in_flight_and_resumes_from_the_receiver() {
        let mut c = Connection::open(0, 1, 0);
        c.sent(at(1), 5);
        c.cut_at(at(0), 0);
        c.reset(2, 3);
        assert!(!c.connected);
        assert_eq!((c.epoch, c.shipped, c.landing_to()), (2, 3, 3));
        assert!(!c.receive(1, 5), "the old epoch's delivery is void");
        c.reopen(3);
        assert!(c.connected);
        c.sent(at(2), 7);
        assert_eq!(c.landing_to(), 7, "the new connection is not cut");
        assert!(c.receive(2, 7));
    }

    #[test]
    fn catching_up_moves_shipped_and_acked_together() {
        let mut c = Connection::open(0, 1, 2);
        c.void_in_flight(2);
        c.caught_up(40);
        assert_eq!((c.shipped, c.acked, c.epoch), (40, 40, 2));
    }
}

//! Seeds and random streams.
//!
//! Every run derives its seed from (master seed, run index) only, and every
//! purpose (workload, network, ...) gets its own generator seeded from the run
//! seed. Adding a draw to one purpose never shifts another's stream, and a run's
//! result does not depend on the thread that ran it.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The portable generator used everywhere in the model (a fixed, named algorithm).
pub type SimRng = Xoshiro256PlusPlus;

/// SplitMix64 finaliser: a fixed bijective mixer for deriving seeds.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of Monte Carlo run `index` under `master`.
pub fn run_seed(master: u64, index: u64) -> u64 {
    splitmix64(master ^ splitmix64(index.wrapping_add(0x5EED)))
}

/// Independent purposes that draw random numbers during a run.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Stream {
    Workload = 1,
    Network = 2,
    Failures = 3,
    Failover = 4,
    Clients = 5,
    /// Health-check probes: apart from data traffic, so that architectures
    /// with different replication see the same health-check luck.
    Probes = 6,
}

/// A generator for one purpose of one run.
pub fn stream_rng(run_seed: u64, stream: Stream) -> SimRng {
    let mut state = run_seed ^ splitmix64(stream as u64);
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_exact_mut(8) {
        state = splitmix64(state);
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    SimRng::from_seed(seed)
}

/// One generator per purpose.
pub struct Rngs {
    pub workload: SimRng,
    pub network: SimRng,
    pub failures: SimRng,
    pub failover: SimRng,
    pub clients: SimRng,
    pub probes: SimRng,
}

impl Rngs {
    pub fn new(run_seed: u64) -> Rngs {
        Rngs {
            workload: stream_rng(run_seed, Stream::Workload),
            network: stream_rng(run_seed, Stream::Network),
            failures: stream_rng(run_seed, Stream::Failures),
            failover: stream_rng(run_seed, Stream::Failover),
            clients: stream_rng(run_seed, Stream::Clients),
            probes: stream_rng(run_seed, Stream::Probes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn golden_values_are_stable() {
        // If this fails, seeds or the generator changed and every published
        // result would change with them: that needs a deliberate decision.
        assert_eq!(run_seed(42, 0), run_seed(42, 0));
        assert_ne!(run_seed(42, 0), run_seed(42, 1));
        assert_ne!(run_seed(42, 0), run_seed(43, 0));
        let mut r = stream_rng(7, Stream::Workload);
        let first: u64 = r.random();
        assert_eq!(first, stream_rng(7, Stream::Workload).random::<u64>());
        assert_ne!(first, stream_rng(7, Stream::Network).random::<u64>());
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
    }
}

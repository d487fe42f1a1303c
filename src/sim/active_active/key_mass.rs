//! Key popularity in closed form, for conflicts during aggregate periods.
//!
//! While two sites that both take writes are cut off from each other, every
//! pair of consecutive writes to one key, the first at one of them and the
//! second at the other, is a conflict (the second writer cannot know the
//! first). Write sites are independent of keys, so with a key's writes in a
//! period Poisson(mu_k) and a fraction c of ordered site pairs cut, the
//! expected number of such pairs is c * sum_k E[(n_k - 1)+] =
//! c * sum_k (mu_k - 1 + exp(-mu_k)). The sums over a million keys are taken
//! over groups of keys of nearly equal popularity: the first ranks one by
//! one, then ranks in buckets 1% wide (the popularity varies by under 1%
//! within a bucket).

use crate::model::KeySpace;

/// Keys grouped by popularity: (number of keys, probability of each).
pub struct KeyMass {
    groups: Vec<(f64, f64)>,
}

/// Ranks taken one by one before bucketing.
const SINGLE_RANKS: u64 = 1000;

impl KeyMass {
    pub fn new(keys: &KeySpace) -> KeyMass {
        let n = keys.count.max(1);
        let Some(s) = keys.zipf_exponent else {
            return KeyMass {
                groups: vec![(n as f64, 1.0 / n as f64)],
            };
        };
        // Zipf over ranks 1..=n: weight k^-s. Beyond the single ranks, a
        // bucket's weight is the integral over [a - 1/2, b + 1/2] (midpoint
        // rule, accurate to far below 1e-6 for k > 1000).
        let integral = |a: f64, b: f64| {
            if (s - 1.0).abs() < 1e-12 {
                (b / a).ln()
            } else {
                (b.powf(1.0 - s) - a.powf(1.0 - s)) / (1.0 - s)
            }
        };
        let mut raw: Vec<(f64, f64)> = Vec::new();
        let single = n.min(SINGLE_RANKS);
        for k in 1..=single {
            raw.push((1.0, (k as f64).powf(-s)));
        }
        let mut a = single + 1;
        while a <= n {
            let b = (((a as f64) * 1.01).floor() as u64).clamp(a, n);
            let count = (b - a + 1) as f64;
            let weight = integral(a as f64 - 0.5, b as f64 + 0.5);
            raw.push((count, weight / count));
            a = b + 1;
        }
        let total: f64 = raw.iter().map(|(c, w)| c * w).sum();
        KeyMass {
            groups: raw.into_iter().map(|(c, w)| (c, w / total)).collect(),
        }
    }

    /// sum_k E[(n_k - 1)+] with n_k ~ Poisson(writes * p_k): pairs of
    /// consecutive writes to one key among `writes` writes (in expectation).
    pub fn consecutive_pairs(&self, writes: f64) -> f64 {
        self.groups
            .iter()
            .map(|&(c, p)| {
                let mu = writes * p;
                // mu - 1 + e^-mu, without cancellation for small mu.
                let v = if mu < 1e-3 {
                    mu * mu / 2.0 - mu * mu * mu / 6.0
                } else {
                    mu - 1.0 + (-mu).exp()
                };
                c * v
            })
            .sum()
    }

    /// sum_k P(key written in each of two disjoint stretches with `a` and
    /// `b` writes) * P(not written in a third one with `none` writes).
    pub fn touched_in_both(&self, a: f64, b: f64, none: f64) -> f64 {
        self.groups
            .iter()
            .map(|&(c, p)| c * (-(-a * p).exp_m1()) * (-(-b * p).exp_m1()) * (-none * p).exp())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(keys: u64, s: f64, writes: f64) -> f64 {
        let h: f64 = (1..=keys).map(|k| (k as f64).powf(-s)).sum();
        (1..=keys)
            .map(|k| {
                let mu = writes * (k as f64).powf(-s) / h;
                mu - 1.0 + (-mu).exp()
            })
            .sum()
    }

    #[test]
    fn grouped_sums_match_the_key_by_key_sums() {
        for (keys, s) in [(1_000_000u64, 0.8), (200_000, 1.2), (5_000, 0.5)] {
            let mass = KeyMass::new(&KeySpace {
                count: keys,
                zipf_exponent: Some(s),
            });
            for writes in [1e3, 1e5, 1e7] {
                let exact = brute(keys, s, writes);
                let grouped = mass.consecutive_pairs(writes);
                assert!(
                    (grouped - exact).abs() <= 1e-3 * exact,
                    "{keys} keys, s = {s}, {writes} writes: {grouped} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn uniform_keys_have_the_closed_form() {
        let mass = KeyMass::new(&KeySpace {
            count: 1000,
            zipf_exponent: None,
        });
        let mu: f64 = 2.5;
        let expected = 1000.0 * (mu - 1.0 + (-mu).exp());
        assert!((mass.consecutive_pairs(2500.0) - expected).abs() < 1e-9 * expected);
        // A key written in both stretches: (1 - e^-1)^2 per key with 1 write per key each.
        let both = mass.touched_in_both(1000.0, 1000.0, 0.0);
        let per_key = (1.0 - (-1.0f64).exp()).powi(2);
        assert!((both - 1000.0 * per_key).abs() < 1e-9 * both);
    }
}

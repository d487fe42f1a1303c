//! `drsim sweep`.

use super::{Outcome, SweepArgs};

pub fn execute(_args: SweepArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("drsim sweep is not implemented yet")
}

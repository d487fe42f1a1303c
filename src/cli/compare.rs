//! `drsim compare`.

use super::{CompareArgs, Outcome};

pub fn execute(_args: CompareArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("drsim compare is not implemented yet")
}

//! `drsim trace`.

use super::TraceArgs;

pub fn execute(_args: TraceArgs) -> anyhow::Result<()> {
    anyhow::bail!("drsim trace is not implemented yet")
}

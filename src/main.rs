//! The drsim binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;
use drsim::cli::Outcome;

fn main() -> std::process::ExitCode {
    let cli = drsim::cli::Cli::parse();
    match drsim::cli::execute(cli) {
        Ok(Outcome::Passed) => std::process::ExitCode::SUCCESS,
        Ok(Outcome::TargetFailed) => std::process::ExitCode::from(2),
        Ok(Outcome::Undecided) => std::process::ExitCode::from(3),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

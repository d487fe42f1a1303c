//! The drsim binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;
use drsim::cli::Outcome;

fn main() -> std::process::ExitCode {
    // clap exits 2 on a usage error, but 2 means "a target failed" here:
    // usage errors are errors (1); --help and --version succeed (0).
    let cli = match drsim::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                std::process::ExitCode::FAILURE
            } else {
                std::process::ExitCode::SUCCESS
            };
        }
    };
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

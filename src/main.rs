//! The drsim binary: parse arguments, run, map errors to an exit code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = drsim::cli::Cli::parse();
    match drsim::cli::execute(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

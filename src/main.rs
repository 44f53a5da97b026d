//! The `quota-levy` binary.

use clap::Parser;

fn main() -> std::process::ExitCode {
    quota_levy::cli::run(quota_levy::cli::Cli::parse())
}

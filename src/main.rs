//! The `quota-levy` binary.

use clap::Parser;

/// mimalloc instead of the system allocator: a calculation answered with its explanation
/// is some hundreds of small allocations, and glibc's malloc was a sixth of the
/// server's time under load (BENCHMARKS.md, HTTP).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    quota_levy::cli::run(quota_levy::cli::Cli::parse())
}

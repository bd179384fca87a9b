//! The `fundsim` command-line tool; see `fundsim --help`.
// the command line is held to the library's no-panic discipline too
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}

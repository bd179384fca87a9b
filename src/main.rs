//! The `fundsim` command-line tool; see `fundsim --help`.
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}

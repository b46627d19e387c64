//! `coder-provisioner`: see [`coder_provisioner::cli`].

use std::process::ExitCode;

use clap::Parser;
use coder_provisioner::cli::{self, Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Usage errors exit with 2, --help and --version with 0 (clap's conventions).
    let cli = Cli::parse();

    // Diagnostics of the program itself, on stderr; RUST_LOG overrides. A server reports
    // its sessions at info; the one-shot commands stay quiet unless something is wrong.
    let default_level = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

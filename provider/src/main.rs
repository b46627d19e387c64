//! `terraform-provider-coder`: started by Terraform; run with `-debug` to attach Terraform to a
//! long-running instance through `TF_REATTACH_PROVIDERS`.

use std::process::ExitCode;
use std::sync::Arc;

use terraform_provider_coder::plugin::{serve, ServeOptions};
use terraform_provider_coder::provider;

const PROVIDER_ADDRESS: &str = "registry.terraform.io/coder/coder";

fn main() -> ExitCode {
    let parent_pid = std::os::unix::process::parent_id();
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-debug" | "--debug" => debug = true,
            "-version" | "--version" => {
                println!("terraform-provider-coder {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!(
                    "terraform-provider-coder: unknown argument {other:?}\n\
                     usage: terraform-provider-coder [-debug | -version]"
                );
                return ExitCode::from(2);
            }
        }
    }
    serve(
        || Arc::new(provider::framework()),
        ServeOptions {
            provider_address: PROVIDER_ADDRESS,
            debug,
            parent_pid,
        },
    )
}

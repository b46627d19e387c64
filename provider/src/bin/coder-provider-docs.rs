//! Writes the provider's Registry documentation into `docs/` from the schema and `examples/`.
//!
//! ```text
//! cargo run -p terraform-provider-coder --bin coder-provider-docs            # regenerate docs/
//! cargo run -p terraform-provider-coder --bin coder-provider-docs -- --check # fail if stale
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use terraform_provider_coder::docs::{render_all, stale_files};

fn main() -> ExitCode {
    let mut check = false;
    let mut root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => return usage("--root needs a directory"),
            },
            "-h" | "--help" => {
                println!("usage: coder-provider-docs [--check] [--root REPO_DIR]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    if check {
        return match stale_files(&root) {
            Ok(stale) if stale.is_empty() => ExitCode::SUCCESS,
            Ok(stale) => {
                eprintln!("docs/ is stale; run `cargo run -p terraform-provider-coder --bin coder-provider-docs`:");
                for path in stale {
                    eprintln!("  {}", path.display());
                }
                ExitCode::from(1)
            }
            Err(e) => fail(e),
        };
    }
    let files = match render_all(&root) {
        Ok(files) => files,
        Err(e) => return fail(e),
    };
    for stale in stale_files(&root).unwrap_or_default() {
        if !files.iter().any(|f| f.path == stale) {
            let _ = std::fs::remove_file(root.join(&stale));
        }
    }
    for file in files {
        let path = root.join(&file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, file.contents));
        if let Err(e) = written {
            return fail(e);
        }
        println!("wrote {}", file.path.display());
    }
    ExitCode::SUCCESS
}

fn usage(message: &str) -> ExitCode {
    eprintln!(
        "coder-provider-docs: {message}\nusage: coder-provider-docs [--check] [--root REPO_DIR]"
    );
    ExitCode::from(2)
}

fn fail(e: std::io::Error) -> ExitCode {
    eprintln!("coder-provider-docs: {e}");
    ExitCode::from(1)
}

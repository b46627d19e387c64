//! Compiles every `proto/*.proto` with protox (no system `protoc`) and generates
//! prost messages plus tonic clients and servers for them.

use std::env;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message;

const PROTO_DIR: &str = "proto";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={PROTO_DIR}");
    println!("cargo::rustc-check-cfg=cfg(has_provisioner_proto)");

    let files = proto_files(Path::new(PROTO_DIR))?;
    let fds = protox::compile(&files, [PROTO_DIR])?;

    // provisioner.proto is maintained separately and may be absent; lib.rs only
    // declares the module when a compiled file defines that package. (Checking
    // for OUT_DIR/provisioner.rs instead would trust a stale file.)
    let has_provisioner = fds.file.iter().any(|f| f.package() == "provisioner");

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    write_descriptor_set(&fds, &out_dir.join("file_descriptor_set.bin"))?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Unimplemented RPCs answer UNIMPLEMENTED instead of forcing every
        // implementor to write all 36 tfplugin6 methods.
        .generate_default_stubs(true)
        .compile_fds(fds)?;

    if has_provisioner {
        println!("cargo:rustc-cfg=has_provisioner_proto");
    }
    Ok(())
}

/// All `.proto` files directly in `dir`, sorted so the build is deterministic.
fn proto_files(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Writes the set without source info (comments, spans): the constant is for
/// reflection, not documentation.
fn write_descriptor_set(
    fds: &prost_types::FileDescriptorSet,
    path: &Path,
) -> Result<(), Box<dyn Error>> {
    let mut stripped = fds.clone();
    for file in &mut stripped.file {
        file.source_code_info = None;
    }
    fs::write(path, stripped.encode_to_vec())?;
    Ok(())
}

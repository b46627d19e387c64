//! Newest-protocol completeness, over the real gRPC API with real Terraform: the module files
//! Init returns (inline, or ahead of the Complete as a `DataUpload` and `ChunkPiece`s above
//! 4 MiB), and the drift report of a prebuilt workspace's claim.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use coder_proto::provisioner::{
    request, response, ApplyRequest, DataUploadType, InitComplete, InitRequest, LogLevel,
    PlanRequest, PrebuiltWorkspaceBuildStage, ResourceReplacement, Response, WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, tar_of, Outcome, ProvisionerServer, ServerOptions, Session,
};
use integration_tests::{terraform_versions, Terraform};

fn server(tf: &Terraform) -> ProvisionerServer {
    ProvisionerServer::start_with(
        tf,
        ServerOptions {
            without_provider: true,
            ..Default::default()
        },
    )
}

fn init(files: &[(&str, &str)], omit_module_files: bool) -> request::Type {
    request::Type::Init(InitRequest {
        template_source_archive: tar_of(files),
        omit_module_files,
    })
}

/// SHA-256 of `data`, by coreutils' `sha256sum` (an implementation independent of ours).
fn sha256(data: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("data");
    std::fs::write(&file, data).expect("write");
    let out = Command::new("sha256sum")
        .arg(&file)
        .output()
        .expect("run sha256sum");
    assert!(out.status.success(), "sha256sum failed");
    let hex = String::from_utf8_lossy(&out.stdout);
    let hex = hex.split_whitespace().next().unwrap_or_default();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// `(name, contents)` of every entry of a tar.
fn tar_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    archive
        .entries()
        .expect("module_files is a tar")
        .map(|entry| {
            let mut entry = entry.expect("tar entry");
            let name = entry.path().expect("entry path").display().to_string();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("entry data");
            (name, data)
        })
        .collect()
}

/// A module outside the template, which Terraform fetches into `.terraform/modules/` (an
/// absolute path is a remote-style source to Terraform; it works offline).
fn module_source(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> String {
    let root = dir.join(name);
    for (path, data) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, data).expect("write module file");
    }
    root.display().to_string()
}

const REMOTE_MAIN: &str = "resource \"terraform_data\" \"in_remote\" {\n  input = \"remote\"\n}\n";
const REMOTE_README: &str = "# A module fetched by terraform init\n";
const LOCAL_MAIN: &str = "resource \"terraform_data\" \"in_local\" {}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_returns_the_fetched_module_files() {
    for tf in terraform_versions() {
        let server = server(&tf);
        let source = module_source(
            server.scratch(),
            "remote-module",
            &[
                ("main.tf", REMOTE_MAIN.as_bytes()),
                ("README.md", REMOTE_README.as_bytes()),
                (".git/HEAD", b"ref: refs/heads/main\n"),
            ],
        );
        let main_tf = format!(
            "module \"remote\" {{\n  source = \"{source}\"\n}}\n\nmodule \"local\" {{\n  source = \"./mod\"\n}}\n"
        );
        let files = [("main.tf", main_tf.as_str()), ("mod/main.tf", LOCAL_MAIN)];
        let mut session = server.session("").await;

        let with_files = session.request(init(&files, false)).await.assert_ok();
        let complete = with_files.init();
        let mut keys: Vec<(&str, &str)> = complete
            .modules
            .iter()
            .map(|m| (m.key.as_str(), m.dir.as_str()))
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![("local", "mod"), ("remote", ".terraform/modules/remote")],
            "{tf}"
        );
        assert_eq!(
            complete.module_files_hash,
            sha256(&complete.module_files),
            "{tf}"
        );
        // The fetched module, without its .git, and the manifest; the local module is part
        // of the template already.
        let entries = tar_entries(&complete.module_files);
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec![
                ".terraform/modules/remote/",
                ".terraform/modules/remote/README.md",
                ".terraform/modules/remote/main.tf",
                ".terraform/modules/modules.json",
            ],
            "{tf}"
        );
        assert_eq!(entries[2].1, REMOTE_MAIN.as_bytes(), "{tf}");
        let manifest: serde_json::Value =
            serde_json::from_slice(&entries[3].1).expect("modules.json");
        assert!(
            manifest["Modules"]
                .as_array()
                .is_some_and(|m| m.iter().any(|e| e["Key"] == "remote")),
            "{tf}: {manifest}"
        );

        // The same modules give the same bytes (the control plane stores them by hash).
        let again = session.request(init(&files, false)).await.assert_ok();
        assert_eq!(
            again.init().module_files_hash,
            complete.module_files_hash,
            "{tf}"
        );

        // A workspace build asks for none; the module list stays.
        let omitted = session.request(init(&files, true)).await.assert_ok();
        assert!(omitted.init().module_files.is_empty(), "{tf}");
        assert!(omitted.init().module_files_hash.is_empty(), "{tf}");
        assert_eq!(omitted.init().modules.len(), 2, "{tf}");

        // Both modules plan from what init set up.
        let plan = session
            .request(request::Type::Plan(PlanRequest::default()))
            .await
            .assert_ok();
        let json: serde_json::Value = serde_json::from_slice(&plan.plan().plan).expect("plan");
        let mut planned: Vec<String> = json["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["address"].as_str().map(String::from))
            .collect();
        planned.sort();
        assert_eq!(
            planned,
            vec![
                "module.local.terraform_data.in_local",
                "module.remote.terraform_data.in_remote"
            ],
            "{tf}"
        );

        // Only local modules: nothing to return.
        let local_only = session
            .request(init(
                &[
                    ("main.tf", "module \"local\" {\n  source = \"./mod\"\n}\n"),
                    ("mod/main.tf", LOCAL_MAIN),
                ],
                false,
            ))
            .await
            .assert_ok();
        assert!(local_only.init().module_files.is_empty(), "{tf}");
        assert!(local_only.init().module_files_hash.is_empty(), "{tf}");
        assert_eq!(local_only.init().modules.len(), 1, "{tf}");
        eprintln!(
            "[modules] {tf}: module_files {} bytes inline",
            complete.module_files.len()
        );
    }
}

/// Deterministic bytes that do not compress or repeat (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Reads one Init's responses: logs are skipped, anything else is returned in order up to
/// and including the InitComplete.
async fn init_responses(session: &mut Session) -> Vec<response::Type> {
    let mut out = Vec::new();
    loop {
        match session.next().await {
            Ok(Some(Response {
                r#type: Some(response::Type::Log(_)),
            })) => {}
            Ok(Some(Response {
                r#type: Some(response::Type::Init(init)),
            })) => {
                out.push(response::Type::Init(init));
                return out;
            }
            Ok(Some(Response { r#type: Some(t) })) => out.push(t),
            other => panic!("unexpected: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_files_over_4_mib_come_ahead_of_the_init_complete_in_pieces() {
    const BLOB: usize = 5 * 1024 * 1024 + 123;
    let tf = &terraform_versions()[0];
    let server = server(tf);
    let blob = noise(BLOB);
    let source = module_source(
        server.scratch(),
        "big-module",
        &[
            ("main.tf", REMOTE_MAIN.as_bytes()),
            ("assets/blob.bin", &blob),
        ],
    );
    let main_tf = format!("module \"big\" {{\n  source = \"{source}\"\n}}\n");
    let mut session = server.session("").await;
    session.send(init(&[("main.tf", main_tf.as_str())], false));
    let responses = init_responses(&mut session).await;

    // Upstream's order: the DataUpload, the pieces by index, then the Complete.
    let Some(response::Type::DataUpload(upload)) = responses.first() else {
        panic!("the first answer is not a DataUpload: {responses:?}");
    };
    let Some(response::Type::Init(complete)) = responses.last() else {
        panic!("the last answer is not the InitComplete");
    };
    let complete: &InitComplete = complete;
    assert_eq!(complete.error, "");
    assert_eq!(upload.upload_type(), DataUploadType::UploadTypeModuleFiles);
    let pieces = &responses[1..responses.len() - 1];
    assert_eq!(upload.chunks as usize, pieces.len());
    let mut data = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let response::Type::ChunkPiece(piece) = piece else {
            panic!("answer {} is not a ChunkPiece", i + 1);
        };
        assert_eq!(piece.piece_index as usize, i);
        assert_eq!(piece.full_data_hash, upload.data_hash);
        assert!(
            piece.data.len() <= 2 * 1024 * 1024,
            "piece {i}: {}",
            piece.data.len()
        );
        data.extend_from_slice(&piece.data);
    }
    assert_eq!(data.len() as i64, upload.file_size);
    assert_eq!(pieces.len(), data.len().div_ceil(2 * 1024 * 1024));
    // The Complete carries the hash, not the payload; the payload is what was hashed.
    assert!(complete.module_files.is_empty());
    assert_eq!(complete.module_files_hash, upload.data_hash);
    assert_eq!(sha256(&data), upload.data_hash);
    let entries = tar_entries(&data);
    let archived = entries
        .iter()
        .find(|(n, _)| n == ".terraform/modules/big/assets/blob.bin")
        .unwrap_or_else(|| {
            panic!(
                "blob missing: {:?}",
                entries.iter().map(|(n, _)| n).collect::<Vec<_>>()
            )
        });
    assert!(archived.1 == blob, "the archived blob differs");
    eprintln!(
        "[modules] {tf}: module_files {} bytes sent as a DataUpload and {} ChunkPieces",
        data.len(),
        pieces.len()
    );

    // The session goes on after the upload.
    let plan = session
        .request(request::Type::Plan(PlanRequest::default()))
        .await
        .assert_ok();
    assert!(!plan.plan().plan.is_empty());
}

/// The agent's directory follows the workspace's owner, and every agent attribute forces a
/// new agent: claiming the prebuilt workspace replaces the agent, the mistake the drift report
/// exists to show.
const PREBUILD_TEMPLATE: &str = r#"
terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

data "coder_workspace_owner" "me" {}

resource "coder_agent" "main" {
  arch = "amd64"
  os   = "linux"
  dir  = "/home/${data.coder_workspace_owner.me.name}"
}

resource "terraform_data" "stable" {
  input = "kept"
}
"#;

fn prebuild_plan(stage: PrebuiltWorkspaceBuildStage, owner: &str, state: Vec<u8>) -> request::Type {
    let mut meta = metadata(WorkspaceTransition::Start, "dev", owner);
    meta.prebuilt_workspace_build_stage = stage.into();
    request::Type::Plan(PlanRequest {
        metadata: Some(meta),
        state,
        ..Default::default()
    })
}

/// The lines of the human-readable drift report in a plan's logs.
fn drift_lines(plan: &Outcome) -> Vec<(LogLevel, String)> {
    plan.logs
        .iter()
        .filter(|l| {
            l.output.contains("# forces replacement") || l.output.contains("must be replaced")
        })
        .map(|l| (l.level(), l.output.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prebuild_claim_that_replaces_resources_logs_the_drift() {
    for tf in terraform_versions() {
        let server = ProvisionerServer::start(&tf);
        let mut session = server.session("").await;
        session
            .request(init(&[("main.tf", PREBUILD_TEMPLATE)], true))
            .await
            .assert_ok();
        // The prebuild, owned by the prebuilds user.
        session
            .request(prebuild_plan(
                PrebuiltWorkspaceBuildStage::Create,
                "prebuilds",
                Vec::new(),
            ))
            .await
            .assert_ok();
        let state = session
            .request(request::Type::Apply(ApplyRequest::default()))
            .await
            .assert_ok()
            .apply()
            .state
            .clone();

        // Claimed by alice: the agent must be replaced, and the report says why.
        let claim = session
            .request(prebuild_plan(
                PrebuiltWorkspaceBuildStage::Claim,
                "alice",
                state.clone(),
            ))
            .await
            .assert_ok();
        assert_eq!(
            claim.plan().resource_replacements,
            vec![ResourceReplacement {
                resource: "coder_agent.main".into(),
                paths: vec!["dir".into()],
            }],
            "{tf}"
        );
        let drift = drift_lines(&claim);
        assert!(
            drift.contains(&(
                LogLevel::Info,
                "  # coder_agent.main must be replaced".to_string()
            )),
            "{tf}: {drift:?}\n{}",
            claim.log_text()
        );
        let forcing: Vec<&(LogLevel, String)> = drift
            .iter()
            .filter(|(_, l)| l.contains("# forces replacement"))
            .collect();
        assert_eq!(forcing.len(), 1, "{tf}: {drift:?}");
        assert_eq!(forcing[0].0, LogLevel::Warn, "{tf}: {drift:?}");
        assert!(
            forcing[0].1.contains("dir")
                && forcing[0]
                    .1
                    .contains("\"/home/prebuilds\" -> \"/home/alice\""),
            "{tf}: {drift:?}"
        );
        assert!(
            claim.logs.iter().any(|l| l
                .output
                .starts_with("Plan: 1 to add, 0 to change, 1 to destroy")
                && l.level() == LogLevel::Info),
            "{tf}: the whole report is logged:\n{}",
            claim.log_text()
        );

        eprintln!(
            "[modules] {tf}: claim drift report: {} log lines, WARN: {}",
            claim
                .logs
                .iter()
                .skip_while(|l| !l
                    .output
                    .starts_with("Terraform used the selected providers"))
                .count(),
            forcing[0].1.trim()
        );

        // The same change outside a claim: the replacement is reported, the text is not.
        let ordinary = session
            .request(prebuild_plan(
                PrebuiltWorkspaceBuildStage::None,
                "alice",
                state.clone(),
            ))
            .await
            .assert_ok();
        assert_eq!(ordinary.plan().resource_replacements.len(), 1, "{tf}");
        assert_eq!(drift_lines(&ordinary), vec![], "{tf}");

        // A claim that replaces nothing: no report.
        let clean = session
            .request(prebuild_plan(
                PrebuiltWorkspaceBuildStage::Claim,
                "prebuilds",
                state,
            ))
            .await
            .assert_ok();
        assert!(clean.plan().resource_replacements.is_empty(), "{tf}");
        assert_eq!(drift_lines(&clean), vec![], "{tf}");
    }
}

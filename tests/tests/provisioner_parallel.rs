//! Eight sessions at once on one server, each building its own workspace from the same
//! template: each gets its own work directory, state and answers; also with a plugin cache
//! shared by the sessions.

use coder_proto::provisioner::{
    request, ApplyRequest, InitRequest, PlanRequest, VariableValue, WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, state_instances, tar_of, wait_until, ProvisionerServer, ServerOptions,
    WORKSPACE_TEMPLATE,
};
use integration_tests::terraform_versions;
use std::time::Duration;

const SESSIONS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_parallel_sessions() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start(tf);
    build_in_parallel(&server).await;
}

/// With `--plugin-cache-dir`, each `terraform init` (no lock file in the template) removes and
/// re-creates the provider's cache entry; before inits took the cache exclusively, another
/// session's plan or apply starting the provider at that moment failed with "could not read
/// package directory".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_parallel_sessions_sharing_a_plugin_cache() {
    let tf = &terraform_versions()[0];
    let cache = tempfile::tempdir().expect("plugin cache dir");
    let cache_arg = cache.path().display().to_string();
    let server = ProvisionerServer::start_with(
        tf,
        ServerOptions {
            args: vec!["--plugin-cache-dir", cache_arg.as_str()],
            ..Default::default()
        },
    );
    for _round in 0..2 {
        build_in_parallel(&server).await;
    }
    assert!(
        std::fs::read_dir(cache.path().join("registry.terraform.io"))
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(false),
        "the provider was installed into the shared cache"
    );
}

async fn build_in_parallel(server: &ProvisionerServer) {
    let mut tasks = Vec::new();
    for i in 0..SESSIONS {
        let mut session = server.session("").await;
        tasks.push(tokio::spawn(async move {
            let name = format!("ws{i}");
            let image = format!("image-{i}");
            session
                .request(request::Type::Init(InitRequest {
                    template_source_archive: tar_of(&[("main.tf", WORKSPACE_TEMPLATE)]),
                    omit_module_files: true,
                }))
                .await
                .assert_ok();
            let meta = metadata(WorkspaceTransition::Start, &name, "alice");
            session
                .request(request::Type::Plan(PlanRequest {
                    metadata: Some(meta.clone()),
                    variable_values: vec![VariableValue {
                        name: "image_name".into(),
                        value: image.clone(),
                        sensitive: false,
                    }],
                    ..Default::default()
                }))
                .await
                .assert_ok();
            let apply = session
                .request(request::Type::Apply(ApplyRequest {
                    metadata: Some(meta),
                    state: Vec::new(),
                }))
                .await
                .assert_ok();
            (name, image, apply)
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let (name, image, apply) = task.await.expect("session task");
        let resources = &apply.apply().resources;
        assert_eq!(resources.len(), 2, "{name}: {resources:?}");
        let state = &apply.apply().state;
        let (_, workspace) = state_instances(state)
            .into_iter()
            .find(|(a, _)| a == "terraform_data.workspace")
            .expect("workspace in state");
        let input = &workspace["input"]["value"];
        assert_eq!(input["name"], format!("coder-alice-{name}"), "{name}");
        assert_eq!(
            input["image"],
            format!("docker.io/codercom/{image}"),
            "{name}"
        );
        ids.insert(workspace["id"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(ids.len(), SESSIONS, "every session built its own workspace");
    assert!(
        wait_until(Duration::from_secs(10), || server.session_dirs().is_empty()),
        "session directories left: {:?}",
        server.session_dirs()
    );
}

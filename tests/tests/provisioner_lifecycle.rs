//! A workspace's life through the provisioner's gRPC API, with real Terraform and our
//! provider: start → stop → start → destroy, each build in its own session, the state handed
//! from one build to the next as coderd does.

use coder_proto::provisioner::{
    agent, request, ApplyRequest, GraphRequest, GraphSource, InitRequest, PlanRequest, Resource,
    VariableValue, WorkspaceTransition,
};
use integration_tests::provisioner::{
    metadata, state_instances, tar_of, wait_until, Outcome, ProvisionerServer, WORKSPACE_TEMPLATE,
};
use integration_tests::terraform_versions;
use std::time::Duration;

struct Build {
    plan_graph: Outcome,
    apply: Outcome,
}

impl Build {
    fn state(&self) -> Vec<u8> {
        self.apply.apply().state.clone()
    }
}

/// One build in a fresh session: Init, Plan, Graph(plan), Apply.
async fn build(
    server: &ProvisionerServer,
    transition: WorkspaceTransition,
    state: Vec<u8>,
) -> Build {
    let mut session = server.session("").await;
    session
        .request(request::Type::Init(InitRequest {
            template_source_archive: tar_of(&[("main.tf", WORKSPACE_TEMPLATE)]),
            omit_module_files: true,
        }))
        .await
        .assert_ok();
    let meta = metadata(transition, "dev", "alice");
    let plan = session
        .request(request::Type::Plan(PlanRequest {
            metadata: Some(meta.clone()),
            variable_values: vec![
                VariableValue {
                    name: "image_name".into(),
                    value: "enterprise-node:ubuntu".into(),
                    sensitive: false,
                },
                VariableValue {
                    name: "image_registry".into(),
                    value: "registry.example.com/team".into(),
                    sensitive: true,
                },
            ],
            state: state.clone(),
            ..Default::default()
        }))
        .await
        .assert_ok();
    assert!(!plan.plan().plan.is_empty(), "PlanComplete.plan is empty");
    let plan_graph = session
        .request(request::Type::Graph(GraphRequest {
            source: GraphSource::SourcePlan.into(),
        }))
        .await
        .assert_ok();
    let apply = session
        .request(request::Type::Apply(ApplyRequest {
            metadata: Some(meta),
            state,
        }))
        .await
        .assert_ok();
    Build { plan_graph, apply }
}

fn names(resources: &[Resource]) -> Vec<String> {
    let mut names: Vec<String> = resources
        .iter()
        .map(|r| format!("{}.{}", r.r#type, r.name))
        .collect();
    names.sort();
    names
}

fn agents_of<'a>(resources: &'a [Resource], name: &str) -> &'a [coder_proto::provisioner::Agent] {
    resources
        .iter()
        .find(|r| r.name == name)
        .map(|r| r.agents.as_slice())
        .unwrap_or_else(|| panic!("no resource {name} in {:?}", names(resources)))
}

fn assert_started(resources: &[Resource]) {
    assert_eq!(
        names(resources),
        vec!["terraform_data.home_volume", "terraform_data.workspace"]
    );
    assert!(agents_of(resources, "home_volume").is_empty());
    let agents = agents_of(resources, "workspace");
    assert_eq!(agents.len(), 1, "{agents:?}");
    let agent = &agents[0];
    assert_eq!(agent.name, "main");
    assert_eq!(agent.operating_system, "linux");
    assert!(matches!(agent.auth, Some(agent::Auth::Token(_))));
    assert_eq!(agent.apps.len(), 1);
    assert_eq!(agent.apps[0].slug, "code-server");
    assert_eq!(
        agent.apps[0].healthcheck.as_ref().map(|h| h.threshold),
        Some(6)
    );
    assert_eq!(agent.metadata.len(), 1);
}

fn assert_stopped(resources: &[Resource]) {
    assert_eq!(names(resources), vec!["terraform_data.home_volume"]);
    assert!(
        resources.iter().all(|r| r.agents.is_empty()),
        "no compute runs, so no agent: {resources:?}"
    );
}

fn instance_id(state: &[u8], address: &str) -> Option<String> {
    state_instances(state)
        .into_iter()
        .find(|(a, _)| a == address)
        .and_then(|(_, attrs)| attrs["id"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_stop_start_destroy_with_state_between_builds() {
    for tf in terraform_versions() {
        let server = ProvisionerServer::start(&tf);

        // Start: both resources, the agent on the compute stand-in.
        let start = build(&server, WorkspaceTransition::Start, Vec::new()).await;
        assert_started(&start.plan_graph.graph().resources);
        assert_started(&start.apply.apply().resources);
        let state1 = start.state();
        let volume_id =
            instance_id(&state1, "terraform_data.home_volume").expect("volume in state");
        let workspace = state_instances(&state1)
            .into_iter()
            .find(|(a, _)| a == "terraform_data.workspace")
            .map(|(_, attrs)| attrs)
            .expect("workspace in state");
        assert_eq!(
            workspace["input"]["value"]["image"],
            "registry.example.com/team/enterprise-node:ubuntu",
            "{tf}: variables reach terraform as -var"
        );
        assert_eq!(workspace["input"]["value"]["name"], "coder-alice-dev");
        let entrypoint = workspace["input"]["value"]["entrypoint"]
            .as_str()
            .unwrap_or_default();
        assert!(
            entrypoint.contains("https://coder.example.com/bin/coder-linux-"),
            "{tf}: the agent bootstrap script comes from CODER_AGENT_SCRIPT_*: {entrypoint}"
        );

        // Stop: the ephemeral resource goes, the persistent one stays, no agent is reported.
        let stop = build(&server, WorkspaceTransition::Stop, state1).await;
        assert_stopped(&stop.plan_graph.graph().resources);
        assert_stopped(&stop.apply.apply().resources);
        let state2 = stop.state();
        assert_eq!(
            instance_id(&state2, "terraform_data.home_volume").as_deref(),
            Some(volume_id.as_str()),
            "{tf}: the home volume survives a stop"
        );
        assert_eq!(instance_id(&state2, "terraform_data.workspace"), None);

        // Start again: the compute comes back on the same volume.
        let restart = build(&server, WorkspaceTransition::Start, state2).await;
        assert_started(&restart.apply.apply().resources);
        let state3 = restart.state();
        assert_eq!(
            instance_id(&state3, "terraform_data.home_volume").as_deref(),
            Some(volume_id.as_str())
        );

        // Destroy: nothing left, in the answer or in the state.
        let destroy = build(&server, WorkspaceTransition::Destroy, state3).await;
        assert!(destroy.plan_graph.graph().resources.is_empty());
        assert!(destroy.apply.apply().resources.is_empty());
        let state4 = destroy.state();
        assert!(
            state_instances(&state4)
                .iter()
                .all(|(a, _)| a.starts_with("data.")),
            "{tf}: managed resources remain after destroy: {:?}",
            state_instances(&state4)
        );

        // Destroying a workspace that never had state is a no-op with upstream's message.
        let mut session = server.session("").await;
        session
            .request(request::Type::Init(InitRequest {
                template_source_archive: tar_of(&[("main.tf", WORKSPACE_TEMPLATE)]),
                omit_module_files: true,
            }))
            .await
            .assert_ok();
        let plan = session
            .request(request::Type::Plan(PlanRequest {
                metadata: Some(metadata(WorkspaceTransition::Destroy, "dev", "alice")),
                ..Default::default()
            }))
            .await
            .assert_ok();
        assert!(plan
            .logs
            .iter()
            .any(|l| l.output == "The terraform state does not exist, there is nothing to do"));
        let apply = session
            .request(request::Type::Apply(ApplyRequest::default()))
            .await
            .assert_ok();
        assert!(apply
            .logs
            .iter()
            .any(|l| l.output == "The terraform plan does not exist, there is nothing to do"));
        assert!(apply.apply().state.is_empty());
        drop(session.close());

        // Every session's directory is gone once the sessions end.
        assert!(
            wait_until(Duration::from_secs(10), || server.session_dirs().is_empty()),
            "{tf}: session directories left: {:?}",
            server.session_dirs()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_of_the_state_after_apply() {
    let tf = &terraform_versions()[0];
    let server = ProvisionerServer::start(tf);
    let mut session = server.session("").await;
    let init = session
        .request(request::Type::Init(InitRequest {
            template_source_archive: tar_of(&[("main.tf", WORKSPACE_TEMPLATE)]),
            omit_module_files: true,
        }))
        .await
        .assert_ok();
    assert!(
        init.init().timings.iter().any(|t| t.stage == "init"),
        "init reports its timing"
    );
    let meta = metadata(WorkspaceTransition::Start, "dev", "alice");
    session
        .request(request::Type::Plan(PlanRequest {
            metadata: Some(meta.clone()),
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
    assert!(
        apply
            .apply()
            .timings
            .iter()
            .any(|t| t.resource == "terraform_data.workspace[0]" && t.stage == "apply"),
        "apply reports per-resource timings: {:?}",
        apply.apply().timings
    );
    let graph = session
        .request(request::Type::Graph(GraphRequest {
            source: GraphSource::SourceState.into(),
        }))
        .await
        .assert_ok();
    assert_started(&graph.graph().resources);
    // A second apply needs a new plan.
    let again = session
        .request(request::Type::Apply(ApplyRequest::default()))
        .await;
    assert_eq!(again.error(), "cannot apply before successful plan");
}

//! The README's main job as a test: examples/quickstart through a workspace's life (start, stop,
//! delete) with our provider, on every Terraform version and both plugin protocols.

use integration_tests::{repo_root, terraform_versions, TfDir};

const BUILD_ENV: &[(&str, &str)] = &[
    ("CODER_AGENT_URL", "https://coder.example.com"),
    ("CODER_WORKSPACE_NAME", "quickstart"),
    ("CODER_WORKSPACE_ID", "8f0e3a52-5f7c-4f2e-9a7e-2f5b0f6c1a11"),
    ("CODER_WORKSPACE_OWNER", "alice"),
    ("CODER_WORKSPACE_OWNER_NAME", "Alice Example"),
    ("CODER_WORKSPACE_OWNER_EMAIL", "alice@example.com"),
    (
        "CODER_AGENT_SCRIPT_linux_amd64",
        "fetch ${ACCESS_URL}bin/coder-linux-amd64 auth=${AUTH_TYPE}",
    ),
];

#[test]
fn quickstart_start_stop_delete() {
    for tf in terraform_versions() {
        for protocol in [6, 5] {
            let context = format!("{tf}, protocol {protocol}");
            let mut dir = TfDir::copy_of(&tf, &repo_root().join("examples/quickstart"));
            for (key, value) in BUILD_ENV {
                dir.set_env(key, value);
            }
            dir.set_protocol_version(protocol);

            dir.init().assert_success();
            let plan = dir.plan_detailed_exitcode().assert_code(2);
            assert!(
                plan.stdout.contains("coder_agent.main will be created"),
                "{plan}"
            );

            // Start.
            dir.apply().assert_success();
            let out = dir.output_json();
            let workspace = &out["workspace"]["value"];
            assert_eq!(workspace["name"], "quickstart", "{context}: {out:#}");
            assert_eq!(workspace["transition"], "start", "{context}");
            assert_eq!(workspace["start_count"], 1, "{context}");
            assert_eq!(workspace["owner"], "alice", "{context}");
            assert_eq!(out["provisioner"]["value"], "linux/amd64", "{context}");
            assert_eq!(
                out["agent_init_script"]["value"],
                "fetch https://coder.example.com/bin/coder-linux-amd64 auth=token",
                "{context}"
            );
            assert_eq!(out["agent_token"]["sensitive"], true, "{context}");
            assert_eq!(out["app"]["value"]["slug"], "code-server", "{context}");
            assert_eq!(out["container_running"]["value"], true, "{context}");
            let volume = out["home_volume"]["value"].clone();
            assert_eq!(
                volume, "coder-8f0e3a52-5f7c-4f2e-9a7e-2f5b0f6c1a11-home",
                "{context}"
            );
            let token = out["agent_token"]["value"].as_str().unwrap_or_default();
            assert_eq!(token.len(), 36, "{context}: token {token:?} is not a UUID");

            // Stop: the container goes, the home volume stays.
            let stop = dir
                .with_env(&[("CODER_WORKSPACE_TRANSITION", "stop")])
                .apply()
                .assert_success();
            assert!(
                stop.stdout
                    .contains("terraform_data.workspace[0]: Destruction complete"),
                "{stop}"
            );
            let out = dir.output_json();
            assert_eq!(out["workspace"]["value"]["transition"], "stop", "{context}");
            assert_eq!(out["container_running"]["value"], false, "{context}");
            assert_eq!(out["home_volume"]["value"], volume, "{context}");

            // Delete.
            dir.with_env(&[("CODER_WORKSPACE_TRANSITION", "stop")])
                .destroy()
                .assert_success();
            assert_eq!(
                dir.state_json()["resources"],
                serde_json::json!([]),
                "{context}"
            );
        }
    }
}

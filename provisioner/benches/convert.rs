//! Conversion benchmark (not a test): a generated 10,000-resource `terraform show -json`
//! state and its `terraform graph` DOT, converted the way a session does after `apply`
//! (`TfState::modules_from_json`, then `convert_state`, which parses the DOT, then freeing
//! the decoded modules), timed over several runs. Times are the CPU time of the converting
//! thread, which other load on the machine hardly changes; the wall time is shown too.
//!
//! The template behind the generated documents: 1,000 workspaces, each a `coder_agent` on a
//! `docker_container` with two `coder_app`s, a `coder_metadata`, a `coder_env`, a
//! `coder_script`, and three plain resources (a volume, a `terraform_data`, a
//! `null_resource`): 10 resources each, plus a few shared data sources and parameters. The
//! shapes (attribute sets, `sensitive_values`, `depends_on`, node and edge lines) follow what
//! Terraform 1.11 prints for such resources, as in the conformance fixtures.
//!
//! Target (provisioner issue, item 8): at most 100 ms per conversion, parsing included.
//!
//! usage: cargo bench -p coder-provisioner --bench convert -- [--runs N] [--agents N] [--json]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use coder_provisioner::convert::{self, ConvertedState, TfPlan, TfState};
use serde_json::{json, Value};

const TARGET_MS: f64 = 100.0;
const PARAMETERS: usize = 5;

struct Args {
    runs: usize,
    agents: usize,
    json: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        runs: 15,
        agents: 1000,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "--json" => args.json = true,
            "--runs" => args.runs = number(it.next(), "--runs"),
            "--agents" => args.agents = number(it.next(), "--agents"),
            other => {
                eprintln!("unknown argument {other:?}; usage: [--runs N] [--agents N] [--json]");
                std::process::exit(2);
            }
        }
    }
    args
}

fn number(value: Option<String>, flag: &str) -> usize {
    match value.as_deref().map(str::parse::<usize>) {
        Some(Ok(n)) if n > 0 => n,
        _ => {
            eprintln!("{flag} needs a positive number");
            std::process::exit(2);
        }
    }
}

/// A stable, random-looking UUID (v4 layout), different for every `(kind, i)`.
fn uuid(kind: u64, i: usize) -> String {
    let a = splitmix(kind << 32 ^ i as u64);
    let b = splitmix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const CODER: &str = "registry.terraform.io/coder/coder";
const DOCKER: &str = "registry.terraform.io/kreuzwerker/docker";
const NULL: &str = "registry.terraform.io/hashicorp/null";
const BUILTIN: &str = "terraform.io/builtin/terraform";

/// One resource object of `terraform show -json`.
fn resource(
    mode: &str,
    ty: &str,
    name: &str,
    provider: &str,
    values: Value,
    sensitive: Value,
    depends_on: &[String],
) -> Value {
    let address = if mode == "data" {
        format!("data.{ty}.{name}")
    } else {
        format!("{ty}.{name}")
    };
    let mut r = json!({
        "address": address,
        "mode": mode,
        "type": ty,
        "name": name,
        "provider_name": provider,
        "schema_version": if ty.starts_with("coder_") { 1 } else { 0 },
        "values": values,
        "sensitive_values": sensitive,
    });
    if !depends_on.is_empty() {
        r["depends_on"] = json!(depends_on);
    }
    r
}

/// The attributes of a `docker_container` as the kreuzwerker/docker provider records them
/// (built in parts: one `json!` this size exceeds the macro recursion limit).
fn container_values(i: usize, id: &str) -> Value {
    let mut values = json!({
        "attach": false, "bridge": "", "capabilities": [], "cgroupns_mode": null,
        "command": ["sh", "-c", "#!/usr/bin/env sh\nexec /tmp/coder agent\n"],
        "container_logs": null, "cpu_set": "", "cpu_shares": 0, "destroy_grace_seconds": null,
        "devices": [], "dns": null, "dns_opts": null, "dns_search": null, "domainname": "",
        "entrypoint": ["sh", "-c"],
        "env": [format!("CODER_AGENT_TOKEN={}", uuid(11, i))],
        "exit_code": null, "gpus": null, "group_add": null, "healthcheck": [],
        "host": [{"host": "host.docker.internal", "ip": "host-gateway"}],
        "hostname": format!("dev{i}"), "id": id,
        "image": "codercom/enterprise-base:ubuntu", "init": false, "ipc_mode": "private"
    });
    let more = json!({
        "labels": [
            {"label": "coder.owner", "value": "alice"},
            {"label": "coder.workspace_id", "value": uuid(1, 0)}
        ],
        "log_driver": "json-file", "log_opts": null, "logs": false, "max_retry_count": 0,
        "memory": 0, "memory_swap": 0, "mounts": [], "must_run": true,
        "name": format!("coder-alice-dev{i}"), "network_data": [{
            "gateway": "172.17.0.1", "global_ipv6_address": "", "global_ipv6_prefix_length": 0,
            "ip_address": "172.17.0.2", "ip_prefix_length": 16, "ipv6_gateway": "",
            "mac_address": "02:42:ac:11:00:02", "network_name": "bridge"
        }],
        "network_mode": "bridge", "networks_advanced": [], "pid_mode": "", "ports": [],
        "privileged": false, "publish_all_ports": false, "read_only": false
    });
    let rest = json!({
        "remove_volumes": true, "restart": "no", "rm": false, "runtime": "runc",
        "security_opts": [], "shm_size": 64, "start": true, "stdin_open": false,
        "stop_signal": "", "stop_timeout": 0, "storage_opts": null, "sysctls": null,
        "tmpfs": null, "tty": false, "ulimit": [], "upload": [], "user": "",
        "userns_mode": "", "volumes": [{
            "container_path": "/home/coder", "from_container": "", "host_path": "",
            "read_only": null, "volume_name": format!("coder-{i}-home")
        }],
        "wait": false, "wait_timeout": 60, "working_dir": "/home/coder"
    });
    if let (Some(map), Value::Object(more), Value::Object(rest)) =
        (values.as_object_mut(), more, rest)
    {
        map.extend(more);
        map.extend(rest);
    }
    values
}

/// The generated state JSON and DOT, and what converting them must produce.
struct Generated {
    state: String,
    /// `terraform show -json` of the plan that created the same workspace.
    plan: String,
    dot: String,
    resources: usize,
}

fn generate(agents: usize) -> Generated {
    let mut resources = Vec::with_capacity(agents * 10 + PARAMETERS + 3);
    // (graph label, provider) of every resource, and the edges between labels.
    let mut nodes: Vec<(String, &str)> = Vec::new();
    let mut edges: Vec<(String, String)> = Vec::new();

    let workspace = "data.coder_workspace.me".to_string();
    let owner = "data.coder_workspace_owner.me".to_string();
    let provisioner = "data.coder_provisioner.me".to_string();
    resources.push(resource(
        "data",
        "coder_workspace",
        "me",
        CODER,
        json!({
            "access_port": 443, "access_url": "https://coder.example.com",
            "id": uuid(1, 0), "is_prebuild": false, "is_prebuild_claim": false,
            "name": "dev", "prebuild_count": 0, "start_count": 1, "template_id": uuid(2, 0),
            "template_name": "bench", "template_version": "v1", "transition": "start"
        }),
        json!({}),
        &[],
    ));
    resources.push(resource(
        "data",
        "coder_workspace_owner",
        "me",
        CODER,
        json!({
            "email": "alice@example.com", "full_name": "Alice", "groups": ["everyone"],
            "id": uuid(3, 0), "login_type": "password", "name": "alice",
            "oidc_access_token": "", "rbac_roles": [{"name": "member", "org_id": uuid(4, 0)}],
            "session_token": "", "ssh_private_key": "", "ssh_public_key": "ssh-ed25519 AAAA"
        }),
        json!({"oidc_access_token": true, "session_token": true, "ssh_private_key": true}),
        &[],
    ));
    resources.push(resource(
        "data",
        "coder_provisioner",
        "me",
        CODER,
        json!({"arch": "amd64", "id": uuid(5, 0), "os": "linux"}),
        json!({}),
        &[],
    ));
    for label in [&workspace, &owner, &provisioner] {
        nodes.push((label.clone(), CODER));
    }
    for p in 0..PARAMETERS {
        let name = format!("param_{p}");
        resources.push(resource(
            "data",
            "coder_parameter",
            &name,
            CODER,
            json!({
                "default": "a", "description": "A choice", "display_name": format!("Parameter {p}"),
                "ephemeral": false, "form_type": "radio", "icon": null, "id": uuid(6, p),
                "mutable": true, "name": name, "optional": true, "order": p, "styling": "{}",
                "type": "string", "validation": [], "value": "a",
                "option": [
                    {"description": "", "icon": "", "name": "A", "value": "a"},
                    {"description": "", "icon": "", "name": "B", "value": "b"}
                ]
            }),
            json!({"option": [{}, {}], "validation": []}),
            &[],
        ));
        nodes.push((format!("data.coder_parameter.{name}"), CODER));
    }

    for i in 0..agents {
        let agent = format!("coder_agent.dev{i}");
        let agent_id = uuid(10, i);
        let compute = format!("docker_container.dev{i}");
        let compute_id = format!("{:064x}", i + 1);
        let volume = format!("docker_volume.home{i}");
        resources.push(resource(
            "managed",
            "coder_agent",
            &format!("dev{i}"),
            CODER,
            json!({
                "api_key_scope": "all", "arch": "amd64", "auth": "token",
                "connection_timeout": 120, "dir": "/home/coder",
                "display_apps": [{
                    "port_forwarding_helper": true, "ssh_helper": true, "vscode": true,
                    "vscode_insiders": false, "web_terminal": true
                }],
                "env": {"GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.com"},
                "id": agent_id,
                "init_script": "#!/usr/bin/env sh\nset -eux\n# download and start the agent\ncurl -fsSL https://coder.example.com/bin/coder-linux-amd64 -o /tmp/coder\nexec /tmp/coder agent\n",
                "metadata": [
                    {"display_name": "CPU Usage", "interval": 10, "key": "0_cpu_usage",
                     "order": null, "script": "coder stat cpu", "timeout": 1},
                    {"display_name": "RAM Usage", "interval": 10, "key": "1_ram_usage",
                     "order": null, "script": "coder stat mem", "timeout": 1}
                ],
                "motd_file": null, "order": null, "os": "linux",
                "resources_monitoring": [], "shutdown_script": null,
                "startup_script": "set -e\ncode-server --auth none --port 13337 &\n",
                "startup_script_behavior": "non-blocking",
                "token": uuid(11, i), "troubleshooting_url": null
            }),
            json!({"display_apps": [{}], "metadata": [{}, {}], "resources_monitoring": [], "token": true}),
            std::slice::from_ref(&provisioner),
        ));
        nodes.push((agent.clone(), CODER));
        edges.push((agent.clone(), provisioner.clone()));

        resources.push(resource(
            "managed",
            "docker_volume",
            &format!("home{i}"),
            DOCKER,
            json!({
                "driver": "local", "driver_opts": null, "id": format!("coder-{i}-home"),
                "labels": [{"label": "coder.workspace_id", "value": uuid(1, 0)}],
                "mountpoint": format!("/var/lib/docker/volumes/coder-{i}-home/_data"),
                "name": format!("coder-{i}-home")
            }),
            json!({"labels": [{}]}),
            std::slice::from_ref(&workspace),
        ));
        nodes.push((volume.clone(), DOCKER));
        edges.push((volume.clone(), workspace.clone()));

        resources.push(resource(
            "managed",
            "docker_container",
            &format!("dev{i}"),
            DOCKER,
            container_values(i, &compute_id),
            json!({"command": [false, false, false], "env": true, "healthcheck": [], "host": [{}],
                   "labels": [{}, {}], "network_data": [{}], "volumes": [{}]}),
            &[
                agent.clone(),
                volume.clone(),
                workspace.clone(),
                owner.clone(),
            ],
        ));
        nodes.push((compute.clone(), DOCKER));
        for to in [&agent, &volume, &workspace, &owner] {
            edges.push((compute.clone(), to.clone()));
        }

        for (suffix, port, health) in [("code", 13337, true), ("term", 7681, false)] {
            let name = format!("{suffix}{i}");
            let healthcheck = if health {
                json!([{"interval": 5, "threshold": 6, "url": format!("http://localhost:{port}/healthz")}])
            } else {
                json!([])
            };
            resources.push(resource(
                "managed",
                "coder_app",
                &name,
                CODER,
                json!({
                    "agent_id": agent_id, "command": null, "display_name": format!("{suffix} {i}"),
                    "external": false, "group": null, "healthcheck": healthcheck, "hidden": false,
                    "icon": "/icon/code.svg", "id": uuid(12, i * 2 + usize::from(health)),
                    "open_in": "slim-window", "order": null, "share": "owner",
                    "slug": format!("{suffix}-{i}"), "subdomain": false, "tooltip": null,
                    "url": format!("http://localhost:{port}/?folder=/home/coder")
                }),
                json!({"healthcheck": if health { json!([{}]) } else { json!([]) }}),
                std::slice::from_ref(&agent),
            ));
            let label = format!("coder_app.{name}");
            nodes.push((label.clone(), CODER));
            edges.push((label, agent.clone()));
        }

        resources.push(resource(
            "managed",
            "coder_metadata",
            &format!("dev{i}"),
            CODER,
            json!({
                "daily_cost": 10, "hide": false, "icon": "/icon/docker.svg", "id": uuid(13, i),
                "item": [
                    {"is_null": false, "key": "image", "sensitive": false, "value": "codercom/enterprise-base:ubuntu"},
                    {"is_null": false, "key": "hostname", "sensitive": false, "value": format!("dev{i}")},
                    {"is_null": true, "key": "note", "sensitive": false, "value": ""}
                ],
                "resource_id": compute_id
            }),
            json!({"item": [{}, {}, {}]}),
            std::slice::from_ref(&compute),
        ));
        let metadata = format!("coder_metadata.dev{i}");
        nodes.push((metadata.clone(), CODER));
        edges.push((metadata, compute.clone()));

        resources.push(resource(
            "managed",
            "coder_env",
            &format!("dev{i}"),
            CODER,
            json!({"agent_id": agent_id, "id": uuid(14, i), "merge_strategy": "replace",
                   "name": "EDITOR", "value": "vim"}),
            json!({}),
            std::slice::from_ref(&agent),
        ));
        let env = format!("coder_env.dev{i}");
        nodes.push((env.clone(), CODER));
        edges.push((env, agent.clone()));

        resources.push(resource(
            "managed",
            "coder_script",
            &format!("dev{i}"),
            CODER,
            json!({
                "agent_id": agent_id, "cron": null, "display_name": "dotfiles",
                "icon": "/icon/dotfiles.svg", "id": uuid(15, i), "log_path": "dotfiles.log",
                "run_on_start": true, "run_on_stop": false,
                "script": "coder dotfiles -y https://github.com/example/dotfiles\n",
                "start_blocks_login": false, "timeout": 0
            }),
            json!({}),
            std::slice::from_ref(&agent),
        ));
        let script = format!("coder_script.dev{i}");
        nodes.push((script.clone(), CODER));
        edges.push((script, agent.clone()));

        resources.push(resource(
            "managed",
            "terraform_data",
            &format!("config{i}"),
            BUILTIN,
            json!({"id": uuid(16, i), "input": {"value": {"region": "eu", "size": i % 8},
                   "type": ["object", {"region": "string", "size": "number"}]},
                   "output": {"value": {"region": "eu", "size": i % 8},
                   "type": ["object", {"region": "string", "size": "number"}]},
                   "triggers_replace": null}),
            json!({}),
            std::slice::from_ref(&workspace),
        ));
        let config = format!("terraform_data.config{i}");
        nodes.push((config.clone(), BUILTIN));
        edges.push((config, workspace.clone()));

        resources.push(resource(
            "managed",
            "null_resource",
            &format!("extra{i}"),
            NULL,
            json!({"id": format!("{}", 5_736_572_714_180_973_036u64 - i as u64),
                   "triggers": {"owner": "alice"}}),
            json!({"triggers": {}}),
            &[],
        ));
        nodes.push((format!("null_resource.extra{i}"), NULL));
    }

    let count = resources.len();
    let plan = plan_of(&resources);
    let state = json!({
        "format_version": "1.0",
        "terraform_version": "1.11.4",
        "values": {"root_module": {"resources": resources}}
    });
    Generated {
        state: state.to_string(),
        plan: plan.to_string(),
        dot: dot_text(&nodes, &edges),
        resources: count,
    }
}

/// The plan that creates these resources: managed resources in `planned_values` without
/// the attributes only known after apply (ids, tokens, and what refers to them), data
/// sources in `prior_state` (they are read while planning), and a `resource_changes`
/// entry per managed resource.
fn plan_of(resources: &[Value]) -> Value {
    const AFTER_APPLY: &[&str] = &[
        "id",
        "token",
        "agent_id",
        "resource_id",
        "init_script",
        "env",
    ];
    let (mut planned, mut data, mut changes) = (Vec::new(), Vec::new(), Vec::new());
    for r in resources {
        if r["mode"] == "data" {
            data.push(r.clone());
            continue;
        }
        let mut r = r.clone();
        let mut unknown = serde_json::Map::new();
        if let Some(values) = r["values"].as_object_mut() {
            for key in AFTER_APPLY {
                if values.remove(*key).is_some() {
                    unknown.insert((*key).to_string(), Value::Bool(true));
                }
            }
        }
        changes.push(json!({
            "address": r["address"], "mode": "managed", "type": r["type"], "name": r["name"],
            "provider_name": r["provider_name"],
            "change": {"actions": ["create"], "before": null, "after": r["values"],
                       "after_unknown": unknown, "before_sensitive": false,
                       "after_sensitive": r["sensitive_values"]}
        }));
        if let Some(obj) = r.as_object_mut() {
            obj.remove("depends_on");
        }
        planned.push(r);
    }
    json!({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "prior_state": {"format_version": "1.0", "terraform_version": "1.11.4",
                        "values": {"root_module": {"resources": data}}},
        "timestamp": "2025-01-01T00:00:00Z",
        "applyable": true,
        "complete": true,
        "errored": false
    })
}

/// `terraform graph -type=plan` output for these nodes and edges: node lines, every
/// resource depending on its provider, the providers' close nodes depending on their
/// resources, and the root depending on those. Lines are sorted as Terraform sorts them.
fn dot_text(nodes: &[(String, &str)], edges: &[(String, String)]) -> String {
    let node_id = |label: &str| format!("\"[root] {label} (expand)\"");
    let provider_id = |p: &str| format!("\"[root] provider[\\\"{p}\\\"]\"");
    let close_id = |p: &str| format!("\"[root] provider[\\\"{p}\\\"] (close)\"");
    let providers = [BUILTIN, CODER, DOCKER, NULL];

    let mut node_lines: Vec<String> = nodes
        .iter()
        .map(|(label, _)| {
            format!(
                "\t\t{} [label = \"{label}\", shape = \"box\"]\n",
                node_id(label)
            )
        })
        .collect();
    for p in providers {
        node_lines.push(format!(
            "\t\t{} [label = \"provider[\\\"{p}\\\"]\", shape = \"diamond\"]\n",
            provider_id(p)
        ));
    }
    node_lines.sort();

    let mut edge_lines: Vec<String> = edges
        .iter()
        .map(|(from, to)| format!("\t\t{} -> {}\n", node_id(from), node_id(to)))
        .collect();
    for (label, provider) in nodes {
        edge_lines.push(format!(
            "\t\t{} -> {}\n",
            node_id(label),
            provider_id(provider)
        ));
        edge_lines.push(format!(
            "\t\t{} -> {}\n",
            close_id(provider),
            node_id(label)
        ));
    }
    for p in providers {
        edge_lines.push(format!("\t\t\"[root] root\" -> {}\n", close_id(p)));
    }
    edge_lines.sort();

    let mut out = String::from(
        "digraph {\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\tsubgraph \"root\" {\n",
    );
    for line in node_lines.iter().chain(&edge_lines) {
        out.push_str(line);
    }
    out.push_str("\t}\n}\n");
    out
}

/// CPU time of the calling thread: unlike wall time, it hardly depends on what else the
/// machine runs.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Wall and CPU time of one conversion, in milliseconds.
#[derive(Default)]
struct Sample {
    wall: f64,
    cpu: f64,
    /// JSON decode into the modules to convert.
    decode_cpu: f64,
    /// `convert_state`: DOT parse and conversion.
    convert_cpu: f64,
    /// Freeing the decoded modules.
    free_cpu: f64,
}

/// How the JSON is decoded.
#[derive(Clone, Copy, PartialEq)]
enum Decode {
    /// A state, as the session does: `TfState::modules_from_json`, which skips building
    /// the attribute values the converter never reads.
    Session,
    /// A state, everything into `TfState`, then its modules.
    Full,
    /// A plan, as the session does for Graph (plan): `TfPlan::modules_from_json`.
    Plan,
}

/// What the session does with `terraform show -json` and `terraform graph` after an apply
/// (`Session::state_modules`, then `Session::convert`).
fn convert_once(state: &[u8], dot: &str, decode: Decode) -> (ConvertedState, Sample) {
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let decoded = match decode {
        Decode::Session => TfState::modules_from_json(state),
        Decode::Full => {
            serde_json::from_slice::<TfState>(state).map(TfState::into_modules_for_conversion)
        }
        Decode::Plan => TfPlan::modules_from_json(state),
    };
    let modules = match decoded {
        Ok(m) => m,
        Err(e) => panic!("generated state does not decode: {e}"),
    };
    let decoded_cpu = thread_cpu();
    let converted = match convert::convert_state(&modules, dot) {
        Ok(c) => c,
        Err(e) => panic!("generated state does not convert: {e}"),
    };
    let converted_cpu = thread_cpu();
    drop(modules);
    let (end_wall, end_cpu) = (Instant::now(), thread_cpu());
    let sample = Sample {
        wall: ms(end_wall - wall),
        cpu: ms(end_cpu - cpu),
        decode_cpu: ms(decoded_cpu - cpu),
        convert_cpu: ms(converted_cpu - decoded_cpu),
        free_cpu: ms(end_cpu - converted_cpu),
    };
    (converted, sample)
}

/// The conversion found every agent, app, script, env and metadata item.
fn check(converted: &ConvertedState, agents: usize) {
    let listed = converted.resources.len();
    // docker_container, docker_volume, terraform_data, null_resource and coder_env are
    // listed; the other coder_* resources are folded into agents and resources.
    assert_eq!(listed, agents * 5, "resources listed");
    let all_agents: Vec<_> = converted
        .resources
        .iter()
        .flat_map(|r| r.agents.iter())
        .collect();
    assert_eq!(all_agents.len(), agents, "agents");
    for agent in all_agents {
        assert_eq!(agent.apps.len(), 2, "apps of {}", agent.name);
        assert_eq!(agent.extra_envs.len(), 1, "envs of {}", agent.name);
        // The inline startup script plus the coder_script.
        assert_eq!(agent.scripts.len(), 2, "scripts of {}", agent.name);
        assert_eq!(agent.metadata.len(), 2, "metadata of {}", agent.name);
    }
    let with_metadata = converted
        .resources
        .iter()
        .filter(|r| r.metadata.len() == 3 && r.daily_cost == 10)
        .count();
    assert_eq!(with_metadata, agents, "resources with coder_metadata");
    assert_eq!(converted.parameters.len(), PARAMETERS, "parameters");
}

/// Apps without an id get a random one; blank them to compare two conversions.
fn without_app_ids(mut converted: ConvertedState) -> ConvertedState {
    for resource in &mut converted.resources {
        for agent in &mut resource.agents {
            for app in &mut agent.apps {
                app.id.clear();
            }
        }
    }
    converted
}

fn median(samples: impl Iterator<Item = f64>) -> f64 {
    let mut s: Vec<f64> = samples.collect();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => s[n / 2],
        _ => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let args = parse_args();
    let generated = generate(args.agents);
    let state = generated.state.as_bytes();

    // One untimed run of each decode, which also checks the result: what the converter
    // found, and that skipping unread values changed nothing.
    let (converted, _) = convert_once(state, &generated.dot, Decode::Session);
    check(&converted, args.agents);
    let (full, _) = convert_once(state, &generated.dot, Decode::Full);
    assert_eq!(
        without_app_ids(converted),
        without_app_ids(full),
        "decodes differ"
    );
    let plan = generated.plan.as_bytes();
    let (planned, _) = convert_once(plan, &generated.dot, Decode::Plan);
    check(&planned, args.agents);

    let mut samples = Vec::new();
    let (mut full_cpu, mut plan_cpu) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        let (converted, sample) = convert_once(state, &generated.dot, Decode::Session);
        samples.push(sample);
        drop(converted);
        let (converted, sample) = convert_once(state, &generated.dot, Decode::Full);
        full_cpu.push(sample.cpu);
        drop(converted);
        let (converted, sample) = convert_once(plan, &generated.dot, Decode::Plan);
        plan_cpu.push(sample.cpu);
        drop(converted);
    }
    let wall = median(samples.iter().map(|s| s.wall));
    let cpu = median(samples.iter().map(|s| s.cpu));
    let cpu_min = samples.iter().map(|s| s.cpu).fold(f64::INFINITY, f64::min);
    let cpu_max = samples.iter().map(|s| s.cpu).fold(0.0, f64::max);
    let decode = median(samples.iter().map(|s| s.decode_cpu));
    let convert = median(samples.iter().map(|s| s.convert_cpu));
    let free = median(samples.iter().map(|s| s.free_cpu));
    let full = median(full_cpu.into_iter());
    let plan_ms = median(plan_cpu.into_iter());
    let load = load_average();
    let met = cpu <= TARGET_MS;

    if args.json {
        let figures = json!({
            "resources": generated.resources,
            "agents": args.agents,
            "state_json_bytes": generated.state.len(),
            "dot_bytes": generated.dot.len(),
            "runs": args.runs,
            "cpu_median_ms": round2(cpu),
            "cpu_min_ms": round2(cpu_min),
            "cpu_max_ms": round2(cpu_max),
            "wall_median_ms": round2(wall),
            "json_decode_cpu_ms": round2(decode),
            "convert_state_cpu_ms": round2(convert),
            "free_decoded_cpu_ms": round2(free),
            "full_decode_cpu_median_ms": round2(full),
            "plan_json_bytes": generated.plan.len(),
            "plan_cpu_median_ms": round2(plan_ms),
            "load_average": load,
            "target_ms": TARGET_MS,
            "ratio_to_target": round2(cpu / TARGET_MS),
            "target_met": met,
        });
        println!("{figures:#}");
        return;
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "conversion of a generated state: {} resources ({} agents), state JSON {:.1} MiB, DOT {:.1} MiB",
        generated.resources,
        args.agents,
        mib(generated.state.len()),
        mib(generated.dot.len())
    );
    let _ = writeln!(
        out,
        "median of {} runs: {cpu:.1} ms CPU (min {cpu_min:.1}, max {cpu_max:.1}) = JSON decode {decode:.1} ms + convert_state (DOT parse included) {convert:.1} ms + freeing the decoded modules {free:.1} ms (medians of each); wall {wall:.1} ms",
        args.runs
    );
    let _ = writeln!(
        out,
        "(with every attribute value decoded into TfState instead: {full:.1} ms CPU)"
    );
    let _ = writeln!(
        out,
        "the plan of the same workspace ({:.1} MiB; ids unknown, so apps, envs and scripts find their agent through the graph): {plan_ms:.1} ms CPU",
        mib(generated.plan.len())
    );
    let _ = writeln!(out, "load average: {load}");
    let _ = writeln!(
        out,
        "target <= {TARGET_MS:.0} ms (single-threaded, so CPU time = wall time on an idle core): median {cpu:.1} ms = {:.2} x target, {}",
        cpu / TARGET_MS,
        if met { "met" } else { "NOT met" }
    );
    print!("{out}");
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

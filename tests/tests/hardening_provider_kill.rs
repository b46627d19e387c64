//! The provider killed (SIGKILL) in the middle of `terraform apply`, while Terraform is
//! calling it: Terraform must report an error naming the plugin and exit, not hang; the state
//! it wrote keeps what was applied before the kill; a second apply finishes the job.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use integration_tests::{terraform_versions, TfDir};

const AGENTS: usize = 300;

fn config() -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    coder = {{
      source = "coder/coder"
    }}
  }}
}}

resource "coder_agent" "many" {{
  count = {AGENTS}
  os    = "linux"
  arch  = "amd64"
  dir   = "/home/coder/${{count.index}}"
}}
"#
    )
}

/// Live (not zombie) children of `parent` whose executable is the coder provider.
fn provider_children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let after = stat.rsplit_once(')')?.1;
            let mut fields = after.split_whitespace();
            let state = fields.next()?;
            let ppid: u32 = fields.next()?.parse().ok()?;
            let exe = std::fs::read_link(e.path().join("exe")).ok()?;
            let is_provider = exe
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("terraform-provider-coder"));
            (ppid == parent && state != "Z" && is_provider).then_some(pid)
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit_once(')')
            .map(|(_, s)| s.trim_start())
            .unwrap_or("");
        !state.starts_with('Z')
    })
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Resource instances in the state Terraform wrote.
fn instances_in_state(dir: &TfDir) -> usize {
    let Ok(text) = std::fs::read_to_string(dir.path().join("terraform.tfstate")) else {
        return 0;
    };
    let state: serde_json::Value = serde_json::from_str(&text).expect("state file is JSON");
    state["resources"]
        .as_array()
        .map(|resources| {
            resources
                .iter()
                .map(|r| r["instances"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn provider_killed_during_apply_is_a_terraform_error_and_nothing_hangs() {
    for tf in terraform_versions() {
        let dir = TfDir::new(&tf, &config());
        dir.init().assert_success();

        let mut child = dir
            .command(["apply", "-auto-approve", "-json", "-input=false"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start terraform apply");
        let terraform_pid = child.id();
        let stdout = child.stdout.take().expect("stdout");
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });

        // Wait for the apply walk to start calling the provider, then kill the provider
        // Terraform is talking to.
        let mut output = Vec::new();
        let mut killed = None;
        let deadline = Instant::now() + Duration::from_secs(120);
        while killed.is_none() && Instant::now() < deadline {
            let Ok(line) = lines_rx.recv_timeout(Duration::from_secs(1)) else {
                continue;
            };
            let applying = line.contains("\"type\":\"apply_start\"");
            output.push(line);
            if applying {
                let pids = provider_children(terraform_pid);
                assert_eq!(pids.len(), 1, "{tf}: provider processes {pids:?}");
                let status = std::process::Command::new("kill")
                    .args(["-KILL", &pids[0].to_string()])
                    .status()
                    .expect("run kill");
                assert!(status.success());
                killed = Some((pids[0], Instant::now()));
            }
        }
        let Some((provider_pid, killed_at)) = killed else {
            let _ = child.kill();
            panic!("{tf}: apply never started: {output:#?}");
        };

        let status = wait_with_timeout(&mut child, Duration::from_secs(60));
        if status.is_none() {
            let _ = child.kill();
        }
        let exit_after = killed_at.elapsed();
        let _ = reader.join();
        output.extend(lines_rx.try_iter());
        let status = status.unwrap_or_else(|| {
            panic!("{tf}: terraform still running 60 s after the provider was killed")
        });
        assert_eq!(status.code(), Some(1), "{tf}: {output:#?}");
        assert!(
            !alive(provider_pid),
            "{tf}: the killed provider is still there"
        );

        let errors: Vec<String> = output
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "diagnostic" && v["diagnostic"]["severity"] == "error")
            .map(|v| {
                format!(
                    "{}: {}",
                    v["diagnostic"]["summary"].as_str().unwrap_or(""),
                    v["diagnostic"]["detail"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert!(
            errors.iter().any(|e| e.to_lowercase().contains("plugin")),
            "{tf}: no error about the plugin: {errors:#?}"
        );

        // What was applied before the kill is in the state Terraform wrote; a second apply
        // with a fresh provider completes the rest.
        let partial = instances_in_state(&dir);
        assert!(
            partial < AGENTS,
            "{tf}: all {AGENTS} applied before the kill"
        );
        dir.apply().assert_success();
        assert_eq!(instances_in_state(&dir), AGENTS, "{tf}");
        eprintln!(
            "{tf}: terraform exited {:.1} s after the kill with {} error(s) ({}); {partial}/{AGENTS} instances were in the state, the re-apply completed",
            exit_after.as_secs_f64(),
            errors.len(),
            errors.first().map(String::as_str).unwrap_or("").lines().next().unwrap_or(""),
        );
    }
}

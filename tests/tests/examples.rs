//! Every example under `examples/` through real Terraform, as a workspace build would run it:
//! `init`, `apply`, a second `plan` that must propose nothing, then `destroy`, on every
//! Terraform from `terraform_versions`. Examples are found by walking `examples/`, so a new one
//! is covered without touching this file.
//!
//! An example that needs a provider or module the offline mirror cannot install (a real Docker
//! or Kubernetes template) cannot be applied here. It is left out only when [`NOT_APPLIED`]
//! lists it with the reason; any other such example fails the test, and so does an entry that
//! no longer needs listing.

use std::collections::BTreeSet;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;
use std::time::Instant;

use integration_tests::provider::{
    diagnostics, panic_message, REQUIRED_PROVIDERS, WORKSPACE_BUILD_ENV,
};
use integration_tests::{repo_root, terraform_1_15, terraform_versions, Terraform, TfDir};

/// What the control plane adds for the examples' secrets and sign-ins: the owner has stored
/// the secrets `coder_secret` asks for and signed in to GitHub.
const OWNER_CREDENTIALS: &[(&str, &str)] = &[
    ("CODER_SECRET_ENV_ANTHROPIC_API_KEY", "sk-ant-example-0001"),
    // hex("~/.aws/credentials")
    (
        "CODER_SECRET_FILE_7e2f2e6177732f63726564656e7469616c73",
        "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = example\n",
    ),
    (
        "CODER_EXTERNAL_AUTH_ACCESS_TOKEN_github",
        "gho_example_token",
    ),
    ("CODER_GIT_AUTH_ACCESS_TOKEN_github", "gho_example_token"),
];

/// Examples that cannot be applied offline, with what they need. Nothing else is skipped.
const NOT_APPLIED: &[(&str, &str)] = &[
    (
        "examples/aws-linux",
        "needs hashicorp/aws, AWS credentials and an account to create EC2 instances in",
    ),
    (
        "examples/docker",
        "needs kreuzwerker/docker and a Docker daemon",
    ),
    (
        "examples/kubernetes",
        "needs hashicorp/kubernetes and a cluster",
    ),
];

/// Directories under `examples/` holding a Terraform configuration (`*.tf` files), relative
/// to the repository root, sorted. A configuration's subdirectories belong to it.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let entries = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| {
                entry
                    .unwrap_or_else(|e| panic!("in {}: {e}", dir.display()))
                    .path()
            })
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect::<Vec<_>>();
        if entries
            .iter()
            .any(|p| p.is_file() && p.extension().is_some_and(|e| e == "tf"))
        {
            found.push(dir.to_path_buf());
            return;
        }
        for sub in entries.iter().filter(|p| p.is_dir()) {
            walk(sub, found);
        }
    }
    let mut found = Vec::new();
    walk(&repo_root().join("examples"), &mut found);
    let mut relative: Vec<PathBuf> = found
        .iter()
        .map(|p| p.strip_prefix(repo_root()).unwrap_or(p).to_path_buf())
        .collect();
    relative.sort();
    relative
}

/// The `.tf` text of a configuration (all files, subdirectories included).
fn config_text(dir: &Path) -> String {
    let mut text = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if path.is_dir() && !hidden {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                text.push_str(&fs::read_to_string(&path).unwrap_or_default());
                text.push('\n');
            }
        }
    }
    text
}

/// The quoted string after `source =` on a line, if the line is such an assignment.
fn source_value(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("source")?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start().strip_prefix('"')?;
    rest.split('"').next()
}

/// What keeps a configuration from installing offline: provider sources other than ours, and
/// modules from anywhere but a local path.
fn offline_blockers(text: &str) -> Vec<String> {
    let mut blockers = Vec::new();
    for line in text.lines() {
        let Some(source) = source_value(line) else {
            continue;
        };
        let ours = matches!(source, "coder/coder" | "registry.terraform.io/coder/coder");
        let local = source.starts_with("./") || source.starts_with("../");
        if !ours && !local {
            blockers.push(source.to_string());
        }
    }
    blockers.sort();
    blockers.dedup();
    blockers
}

/// init → apply → re-plan (must be empty) → destroy, for one example and one Terraform.
fn apply_example(tf: &Terraform, example: &Path) {
    let mut dir = TfDir::copy_of(tf, &repo_root().join(example));
    for (key, value) in WORKSPACE_BUILD_ENV.iter().chain(OWNER_CREDENTIALS) {
        dir.set_env(key, value);
    }
    let context = format!("{} with {tf}", example.display());

    dir.run(&["fmt", "-check", "-diff", "-recursive", "-no-color"])
        .assert_success();
    dir.init().assert_success();
    let apply = dir
        .run(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-json",
            "-no-color",
        ])
        .assert_success();
    let errors: Vec<_> = diagnostics(&apply)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{context}: {errors:#?}\n{apply}");

    dir.plan_detailed_exitcode().assert_code(0);

    dir.destroy().assert_success();
    let left = dir.run(&["state", "list"]).assert_success();
    assert_eq!(
        left.stdout.trim(),
        "",
        "{context}: state not empty after destroy"
    );
}

#[test]
fn every_example_applies_and_replans_empty() {
    let examples = example_dirs();
    assert!(
        examples.len() >= 20,
        "expected the provider, resource and data-source examples, found {examples:?}"
    );

    let mut jobs: Vec<(Terraform, PathBuf)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for example in &examples {
        let blockers = offline_blockers(&config_text(&repo_root().join(example)));
        let listed = NOT_APPLIED
            .iter()
            .find(|(dir, _)| Path::new(dir) == example.as_path());
        match (blockers.is_empty(), listed) {
            (true, None) => {
                for tf in terraform_versions() {
                    jobs.push((tf, example.clone()));
                }
            }
            (true, Some(_)) => problems.push(format!(
                "{} installs offline now: apply it (remove it from NOT_APPLIED)",
                example.display()
            )),
            (false, Some((_, why))) => eprintln!(
                "[examples] NOT APPLIED: {} ({why}; uses {blockers:?})",
                example.display()
            ),
            (false, None) => problems.push(format!(
                "{} needs {blockers:?}, which the offline mirror cannot install; make it \
                 installable offline or list it in NOT_APPLIED with the reason",
                example.display()
            )),
        }
    }
    for (dir, _) in NOT_APPLIED {
        if !examples.iter().any(|e| e.as_path() == Path::new(dir)) {
            problems.push(format!("NOT_APPLIED lists {dir}, which is not an example"));
        }
    }

    // A run is a chain of short processes (Terraform, the provider) with waits between them;
    // a few more runs than cores keep the cores busy.
    let workers = thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(4)
        .min(jobs.len().max(1));
    let started = Instant::now();
    let queue = Mutex::new(jobs.iter());
    let failures = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
                let Some((tf, example)) = next else {
                    break;
                };
                let job_started = Instant::now();
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| apply_example(tf, example)));
                eprintln!(
                    "[examples] {} on terraform {}: {} in {:.1}s",
                    example.display(),
                    tf.version,
                    if outcome.is_ok() { "ok" } else { "FAILED" },
                    job_started.elapsed().as_secs_f64()
                );
                if let Err(panic) = outcome {
                    if let Ok(mut f) = failures.lock() {
                        f.push(format!(
                            "{} on {tf}:\n{}",
                            example.display(),
                            panic_message(panic.as_ref())
                        ));
                    }
                }
            });
        }
    });
    eprintln!(
        "[examples] {} runs on {workers} threads in {:.1}s",
        jobs.len(),
        started.elapsed().as_secs_f64()
    );

    problems.extend(failures.into_inner().unwrap_or_default());
    assert!(
        problems.is_empty(),
        "{} problem(s):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// The provider's own schema lists its types; each needs its example file, and each example
/// file needs a type.
#[test]
fn every_type_has_an_example() {
    let tf = terraform_1_15();
    let dir = TfDir::new(&tf, REQUIRED_PROVIDERS);
    dir.init().assert_success();
    let schemas = dir
        .run(&["providers", "schema", "-json"])
        .assert_success()
        .json();
    let provider = &schemas["provider_schemas"]["registry.terraform.io/coder/coder"];
    let names = |key: &str| -> BTreeSet<String> {
        provider[key]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let listed = |kind: &str, file: &str| -> BTreeSet<String> {
        let root = repo_root().join("examples").join(kind);
        fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
            .flatten()
            .filter(|e| e.path().join(file).is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };

    let resources = names("resource_schemas");
    let data_sources = names("data_source_schemas");
    assert_eq!(resources.len(), 9, "{resources:?}");
    assert_eq!(data_sources.len(), 10, "{data_sources:?}");
    assert_eq!(listed("resources", "resource.tf"), resources);
    assert_eq!(listed("data-sources", "data-source.tf"), data_sources);
    assert!(repo_root().join("examples/provider/provider.tf").is_file());
}

#[test]
fn offline_blockers_are_found() {
    let text = r#"
terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
    docker = {
      source = "kreuzwerker/docker"
    }
  }
}
module "local" {
  source = "./modules/home"
}
module "remote" {
  source   = "registry.coder.com/coder/code-server/coder"
  agent_id = coder_agent.main.id
}
"#;
    assert_eq!(
        offline_blockers(text),
        vec![
            "kreuzwerker/docker".to_string(),
            "registry.coder.com/coder/code-server/coder".to_string()
        ]
    );
    assert!(offline_blockers(REQUIRED_PROVIDERS).is_empty());
}

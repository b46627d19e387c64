//! The Terraform commands of a build, run in one session's work directory
//! (coder-provisioner.md §3.4): `init`, `plan -out`, `show -json` of the plan, `graph`,
//! `apply` of the saved plan, and `show -json` of the state.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use coder_proto::provisioner::{LogLevel, Module, Timing, VariableValue};
use tokio_util::sync::CancellationToken;

use super::binary::TerraformBinary;
use super::env::{
    base_env, describe_terraform_vars, sanitized_environ, BaseEnvOptions, Environment,
};
use super::logs::{handle_json_line, handle_plain_line, LogSink};
use super::process::{self, CommandSpec, Outcome, RunError};
use super::timings::{stage_timing, TimingCollector};
use super::workdir::write_private;

/// State file in the work directory (Terraform's local backend default).
pub const STATE_FILE: &str = "terraform.tfstate";
/// The saved plan.
pub const PLAN_FILE: &str = "terraform.tfplan";

/// Default time Terraform gets to exit after SIGINT before it is killed.
pub const DEFAULT_EXIT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Plugins in the cache unused for this long are deleted before `init`.
pub const STALE_PLUGIN_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Settings shared by every session of a server.
#[derive(Debug)]
pub struct TerraformOptions {
    pub binary: TerraformBinary,
    /// `TF_PLUGIN_CACHE_DIR`.
    pub plugin_cache_dir: Option<PathBuf>,
    /// `TF_CLI_CONFIG_FILE`.
    pub cli_config_file: Option<PathBuf>,
    /// Time from SIGINT to SIGKILL when a build is cancelled.
    pub exit_timeout: Duration,
    /// Terraform's plugin cache is not safe for concurrent use: `init` may remove and re-create
    /// a provider's cache entry (it does whenever no lock file vouches for the cached copy)
    /// while another session's Terraform is starting that provider from it. With a cache,
    /// `init` holds this lock exclusively and every other Terraform command shares it; the
    /// lock is fair, so a waiting `init` is not starved by a stream of plans.
    pub cache_lock: tokio::sync::RwLock<()>,
}

impl TerraformOptions {
    pub fn new(binary: TerraformBinary) -> TerraformOptions {
        TerraformOptions {
            binary,
            plugin_cache_dir: None,
            cli_config_file: None,
            exit_timeout: DEFAULT_EXIT_TIMEOUT,
            cache_lock: tokio::sync::RwLock::new(()),
        }
    }

    fn base_env(&self) -> Environment {
        base_env(&BaseEnvOptions {
            plugin_cache_dir: self.plugin_cache_dir.as_deref(),
            cli_config_file: self.cli_config_file.as_deref(),
        })
    }
}

/// A failed Terraform step. `Display` is the text for `*Complete.error`; upstream's
/// prefixes are kept (`terraform plan: exit status 1`).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("initialize terraform: {0}")]
    Init(String),
    #[error("terraform plan: {0}")]
    Plan(String),
    #[error("terraform apply: {0}")]
    Apply(String),
    #[error("show terraform plan: {0}")]
    ShowPlan(String),
    #[error("show terraform state: {0}")]
    ShowState(String),
    #[error("terraform graph: {0}")]
    Graph(String),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: io::Error,
    },
}

/// Why a command failed, or `None` if it did its job. A command that was interrupted counts
/// as failed even when it exits 0: Terraform may stop early and still report success (a plan
/// interrupted half way does), and a cancelled request must not look like a finished one.
fn failure_text(result: &Result<Outcome, RunError>) -> Option<String> {
    match result {
        Ok(outcome) if outcome.success() && outcome.interrupted => Some("canceled".to_string()),
        Ok(outcome) if outcome.success() => None,
        Ok(outcome) => Some(outcome.describe()),
        Err(e) => Some(e.to_string()),
    }
}

/// Terraform in one work directory.
#[derive(Debug, Clone)]
pub struct Executor {
    opts: Arc<TerraformOptions>,
    dir: PathBuf,
    base_env: Environment,
    /// The `TF_*` variables Terraform inherits from our environment, described for logs.
    inherited_tf_vars: Vec<String>,
}

impl Executor {
    pub fn new(opts: Arc<TerraformOptions>, dir: impl Into<PathBuf>) -> Executor {
        let base_env = opts.base_env();
        Executor {
            opts,
            dir: dir.into(),
            base_env,
            inherited_tf_vars: describe_terraform_vars(&sanitized_environ()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> &TerraformOptions {
        &self.opts
    }

    /// The environment of commands without build inputs.
    pub fn base_env(&self) -> &Environment {
        &self.base_env
    }

    fn spec(&self, args: Vec<OsString>, env: Environment) -> CommandSpec {
        CommandSpec {
            program: self.opts.binary.path.clone(),
            args,
            dir: self.dir.clone(),
            env,
        }
    }

    fn plan_path(&self) -> PathBuf {
        self.dir.join(PLAN_FILE)
    }

    /// `terraform init`. Output goes to `sink`; returns the stage's timings either way.
    pub async fn init(
        &self,
        sink: &dyn LogSink,
        cancel: &CancellationToken,
    ) -> (Result<(), ExecError>, Vec<Timing>) {
        let started = SystemTime::now();
        let _guard = match &self.opts.plugin_cache_dir {
            Some(cache) => {
                // Another session's init may take long; a cancel must not wait for it.
                let guard = tokio::select! {
                    guard = self.opts.cache_lock.write() => guard,
                    _ = cancel.cancelled() => {
                        let timing = stage_timing("init", started, SystemTime::now(), false);
                        return (
                            Err(ExecError::Init(
                                "canceled while waiting for other sessions to finish with the plugin cache"
                                    .to_string(),
                            )),
                            vec![timing],
                        );
                    }
                };
                let cache = cache.clone();
                let removed = tokio::task::spawn_blocking(move || {
                    clean_stale_plugins(&cache, STALE_PLUGIN_AGE, SystemTime::now())
                })
                .await
                .unwrap_or_default();
                for dir in removed {
                    sink.log(
                        LogLevel::Debug,
                        &format!("removed unused provider plugin {}", dir.display()),
                    );
                }
                Some(guard)
            }
            None => None,
        };

        let json = self.opts.binary.supports_init_json();
        let mut args = vec!["init".into(), "-no-color".into(), "-input=false".into()];
        if json {
            args.push("-json".into());
        }
        let spec = self.spec(args, self.base_env.clone());
        let stderr_text = Mutex::new(String::new());
        let result = process::run(
            &spec,
            |line| {
                if json {
                    handle_json_line(line, sink);
                } else {
                    handle_plain_line(line, LogLevel::Debug, sink);
                }
            },
            |line| {
                handle_plain_line(line, LogLevel::Error, sink);
                if let Ok(mut text) = stderr_text.lock() {
                    text.push_str(line);
                    text.push('\n');
                }
            },
            cancel,
            self.opts.exit_timeout,
        )
        .await;
        let failure = failure_text(&result).map(|mut text| {
            let busy = stderr_text
                .lock()
                .map(|t| t.contains("text file busy"))
                .unwrap_or(false);
            if busy {
                // Seen upstream when a provider binary in the plugin cache is being replaced
                // while another build starts it.
                text.push_str(
                    " (a provider binary was busy: \"text file busy\"; another build may be \
                     updating the plugin cache, retry the build)",
                );
            }
            text
        });
        let timing = stage_timing("init", started, SystemTime::now(), failure.is_none());
        (
            match failure {
                None => Ok(()),
                Some(text) => Err(ExecError::Init(text)),
            },
            vec![timing],
        )
    }

    /// The modules `init` installed (`.terraform/modules/modules.json`), without the root.
    pub fn modules(&self) -> Vec<Module> {
        super::modules::installed_modules(&self.dir).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the module manifest");
            Vec::new()
        })
    }

    /// Writes `state` as the work directory's state file (mode 0600: states hold secrets).
    pub fn write_state(&self, state: &[u8]) -> Result<(), ExecError> {
        write_private(&self.dir.join(STATE_FILE), state).map_err(|source| ExecError::Io {
            what: "write terraform state",
            source,
        })
    }

    /// The state file's bytes; empty when there is none.
    pub fn read_state(&self) -> Vec<u8> {
        fs::read(self.dir.join(STATE_FILE)).unwrap_or_default()
    }

    /// Logs (at WARN) which `TF_*` variables Terraform inherits from the provisioner's
    /// environment, values hidden: they change what Terraform does, and whoever reads a
    /// build's log did not set them. (Those we set from our own options are not repeated.)
    pub fn log_terraform_vars(&self, sink: &dyn LogSink) {
        for line in &self.inherited_tf_vars {
            sink.log(LogLevel::Warn, line);
        }
    }

    /// `terraform plan -out`, with `-var` for each variable and `-destroy` to plan a
    /// destroy. `env` is the build environment ([`super::env::build_env`]).
    pub async fn plan(
        &self,
        env: Environment,
        variables: &[VariableValue],
        destroy: bool,
        sink: &dyn LogSink,
        cancel: &CancellationToken,
    ) -> (Result<(), ExecError>, Vec<Timing>) {
        let mut args: Vec<OsString> = vec![
            "plan".into(),
            "-no-color".into(),
            "-input=false".into(),
            "-json".into(),
            "-refresh=true".into(),
        ];
        let mut out = OsString::from("-out=");
        out.push(self.plan_path());
        args.push(out);
        if destroy {
            args.push("-destroy".into());
        }
        for v in variables {
            args.push("-var".into());
            args.push(format!("{}={}", v.name, v.value).into());
        }
        let spec = self.spec(args, env);
        let (result, timings) = self.run_json(&spec, "plan", sink, cancel).await;
        (
            match failure_text(&result) {
                None => Ok(()),
                Some(text) => Err(ExecError::Plan(text)),
            },
            timings,
        )
    }

    /// `terraform apply` of the saved plan.
    pub async fn apply(
        &self,
        env: Environment,
        sink: &dyn LogSink,
        cancel: &CancellationToken,
    ) -> (Result<(), ExecError>, Vec<Timing>) {
        let args: Vec<OsString> = vec![
            "apply".into(),
            "-no-color".into(),
            "-auto-approve".into(),
            "-input=false".into(),
            "-json".into(),
            self.plan_path().into_os_string(),
        ];
        let spec = self.spec(args, env);
        let (result, timings) = self.run_json(&spec, "apply", sink, cancel).await;
        (
            match failure_text(&result) {
                None => Ok(()),
                Some(text) => Err(ExecError::Apply(text)),
            },
            timings,
        )
    }

    /// Runs a Terraform command other than `init`. With a plugin cache it first takes a share of
    /// the cache (those commands start providers from it; `init` holds it exclusively) and
    /// keeps it until the command ends. A cancel while waiting for the share lets the command
    /// report the cancel without starting.
    async fn run(
        &self,
        spec: &CommandSpec,
        on_stdout: impl FnMut(&str) + Send,
        on_stderr: impl FnMut(&str) + Send,
        cancel: &CancellationToken,
    ) -> Result<Outcome, RunError> {
        let _cache = match &self.opts.plugin_cache_dir {
            Some(_) => tokio::select! {
                guard = self.opts.cache_lock.read() => Some(guard),
                _ = cancel.cancelled() => None,
            },
            None => None,
        };
        process::run(spec, on_stdout, on_stderr, cancel, self.opts.exit_timeout).await
    }

    /// Runs a `-json` command: stdout parsed into logs and timings, stderr logged as errors.
    async fn run_json(
        &self,
        spec: &CommandSpec,
        stage: &str,
        sink: &dyn LogSink,
        cancel: &CancellationToken,
    ) -> (Result<Outcome, RunError>, Vec<Timing>) {
        let timings = Mutex::new(TimingCollector::new(stage));
        let result = self
            .run(
                spec,
                |line| {
                    if let Some(parsed) = handle_json_line(line, sink) {
                        if let Ok(mut t) = timings.lock() {
                            t.observe(&parsed);
                        }
                    }
                },
                |line| handle_plain_line(line, LogLevel::Error, sink),
                cancel,
            )
            .await;
        let timings = timings
            .into_inner()
            .map(TimingCollector::finish)
            .unwrap_or_default();
        (result, timings)
    }

    /// `terraform show -json` of the saved plan.
    pub async fn show_plan(&self, cancel: &CancellationToken) -> Result<Vec<u8>, ExecError> {
        let args = vec![
            "show".into(),
            "-json".into(),
            "-no-color".into(),
            self.plan_path().into_os_string(),
        ];
        self.capture(args, cancel)
            .await
            .map_err(ExecError::ShowPlan)
    }

    /// Logs `terraform show -no-color` of the saved plan, the human-readable plan: lines that
    /// say `# forces replacement` at WARN, the rest at INFO, stderr at ERROR. Upstream does
    /// this when a prebuilt workspace is claimed and the plan replaces resources, which undoes
    /// the prebuild's point; template admins read why here. A failure is only worth a debug
    /// line: the plan itself succeeded.
    pub async fn log_plan_text(&self, sink: &dyn LogSink, cancel: &CancellationToken) {
        let args = vec![
            "show".into(),
            "-no-color".into(),
            self.plan_path().into_os_string(),
        ];
        let spec = self.spec(args, self.base_env.clone());
        let result = self
            .run(
                &spec,
                |line| sink.log(replacement_level(line), line),
                |line| handle_plain_line(line, LogLevel::Error, sink),
                cancel,
            )
            .await;
        if let Some(failure) = failure_text(&result) {
            tracing::debug!(error = %failure, "could not show the plan's drift");
        }
    }

    /// `terraform show -json` of the current state.
    pub async fn show_state(&self, cancel: &CancellationToken) -> Result<Vec<u8>, ExecError> {
        let args = vec!["show".into(), "-json".into(), "-no-color".into()];
        self.capture(args, cancel)
            .await
            .map_err(ExecError::ShowState)
    }

    /// `terraform graph` (the plan graph on Terraform versions that distinguish graphs) as
    /// DOT text.
    pub async fn graph(&self, cancel: &CancellationToken) -> Result<String, ExecError> {
        let mut args: Vec<OsString> = vec!["graph".into()];
        if self.opts.binary.supports_graph_type_plan() {
            args.push("-type=plan".into());
        }
        let bytes = self.capture(args, cancel).await.map_err(ExecError::Graph)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Runs a command and returns its stdout; on failure, its stderr and exit.
    async fn capture(
        &self,
        args: Vec<OsString>,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>, String> {
        let spec = self.spec(args, self.base_env.clone());
        let stdout = Mutex::new(Vec::<u8>::new());
        let stderr = Mutex::new(String::new());
        let result = self
            .run(
                &spec,
                |line| {
                    if let Ok(mut out) = stdout.lock() {
                        out.extend_from_slice(line.as_bytes());
                        out.push(b'\n');
                    }
                },
                |line| {
                    if let Ok(mut err) = stderr.lock() {
                        err.push_str(line);
                        err.push('\n');
                    }
                },
                cancel,
            )
            .await;
        match failure_text(&result) {
            None => Ok(stdout.into_inner().unwrap_or_default()),
            Some(exit) => {
                let err = stderr.into_inner().unwrap_or_default();
                let err = err.trim();
                Err(if err.is_empty() {
                    exit
                } else {
                    format!("{err}: {exit}")
                })
            }
        }
    }
}

/// Terraform marks the attribute that makes it replace a resource with this comment.
pub const FORCES_REPLACEMENT: &str = "# forces replacement";

/// The level of a line of the human-readable plan.
pub fn replacement_level(line: &str) -> LogLevel {
    if line.contains(FORCES_REPLACEMENT) {
        LogLevel::Warn
    } else {
        LogLevel::Info
    }
}

/// Deletes provider packages (`<host>/<namespace>/<type>/<version>/<os_arch>`) in the plugin
/// cache that nothing read or wrote for `max_age`, and directories that become empty.
/// Returns what was removed.
pub fn clean_stale_plugins(cache: &Path, max_age: Duration, now: SystemTime) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Some(cutoff) = now.checked_sub(max_age) else {
        return removed;
    };
    // Depth 5 below the cache root is the platform directory of one provider version.
    for platform_dir in dirs_at_depth(cache, 5) {
        if newest_use(&platform_dir).is_some_and(|t| t < cutoff)
            && fs::remove_dir_all(&platform_dir).is_ok()
        {
            removed.push(platform_dir.clone());
            let mut parent = platform_dir.parent();
            while let Some(dir) = parent {
                if dir == cache || fs::remove_dir(dir).is_err() {
                    break;
                }
                parent = dir.parent();
            }
        }
    }
    removed
}

fn dirs_at_depth(root: &Path, depth: usize) -> Vec<PathBuf> {
    let mut level = vec![root.to_path_buf()];
    for _ in 0..depth {
        level = level
            .iter()
            .filter_map(|d| fs::read_dir(d).ok())
            .flat_map(|entries| entries.flatten())
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .map(|e| e.path())
            .collect();
    }
    level
}

/// The latest access or modification time of anything below `dir`.
fn newest_use(dir: &Path) -> Option<SystemTime> {
    let mut newest: Option<SystemTime> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        for t in [meta.accessed(), meta.modified()].into_iter().flatten() {
            newest = Some(newest.map_or(t, |n| n.max(t)));
        }
        if meta.is_dir() {
            if let Ok(entries) = fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_plugins_are_removed_with_their_empty_parents() {
        let cache = tempfile::tempdir().expect("tempdir");
        let old = cache
            .path()
            .join("registry.terraform.io/hashicorp/null/3.2.0/linux_amd64");
        let fresh = cache
            .path()
            .join("registry.terraform.io/coder/coder/2.17.0/linux_amd64");
        for dir in [&old, &fresh] {
            fs::create_dir_all(dir).expect("mkdir");
            fs::write(dir.join("terraform-provider"), "bin").expect("write");
        }
        // Pretend a month and a day passed for everything but the coder provider.
        let now = SystemTime::now() + Duration::from_secs(31 * 24 * 60 * 60);
        let touch = fs::File::options()
            .write(true)
            .open(fresh.join("terraform-provider"))
            .expect("open");
        touch
            .set_times(fs::FileTimes::new().set_accessed(now).set_modified(now))
            .expect("touch");
        let removed = clean_stale_plugins(cache.path(), STALE_PLUGIN_AGE, now);
        assert_eq!(removed, vec![old.clone()]);
        assert!(!cache
            .path()
            .join("registry.terraform.io/hashicorp")
            .exists());
        assert!(fresh.join("terraform-provider").exists());
    }

    #[test]
    fn replacement_lines_are_warnings() {
        assert_eq!(
            replacement_level(r#"      ~ triggers_replace = "a" -> "b" # forces replacement"#),
            LogLevel::Warn
        );
        assert_eq!(
            replacement_level("  # terraform_data.home must be replaced"),
            LogLevel::Info
        );
        assert_eq!(replacement_level(""), LogLevel::Info);
    }

    #[test]
    fn reads_the_module_manifest() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join(".terraform/modules")).expect("mkdir");
        fs::write(
            dir.path().join(".terraform/modules/modules.json"),
            r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"hello","Source":"./module","Dir":"module"},{"Key":"hello.there","Source":"./inner_module","Dir":"module/inner_module"}]}"#,
        )
        .expect("write");
        let opts = Arc::new(TerraformOptions::new(TerraformBinary {
            path: PathBuf::from("terraform"),
            version: super::super::binary::MIN_VERSION,
            version_text: "1.5.0".into(),
        }));
        let modules = Executor::new(opts, dir.path()).modules();
        assert_eq!(
            modules,
            vec![
                Module {
                    source: "./module".into(),
                    version: String::new(),
                    key: "hello".into(),
                    dir: "module".into()
                },
                Module {
                    source: "./inner_module".into(),
                    version: String::new(),
                    key: "hello.there".into(),
                    dir: "module/inner_module".into()
                },
            ]
        );
    }
}

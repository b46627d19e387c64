//! The `coder-provisioner` command line: the provisioner's operations on a template
//! directory on this machine (`parse`, `plan`, `apply`), offline conversion of captured
//! Terraform output (`graph`), and the gRPC server (`serve`).
//!
//! `plan` and `apply` run the same session code the server runs, in-process: Config, Init
//! (with a tar of the directory), Plan, then Graph or Apply. Logs stream to stderr as
//! Terraform runs; the result goes to stdout, as text or (`--json`) as one proto3-JSON
//! `Response` per line. Exit codes: 0 success, 1 the template or build failed, 2 usage.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use coder_proto::provisioner::{
    agent, request, response, ApplyRequest, Config, ExternalAuthProvider, GraphComplete,
    GraphRequest, GraphSource, InitRequest, LogLevel, Metadata, PlanRequest, Request, Resource,
    Response, RichParameter, RichParameterValue, VariableValue, WorkspaceTransition,
};
use prost::Message;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::StreamExt;

use crate::convert::{self, TfPlan, TfState};
use crate::parse;
use crate::server::{self, ListenAddr, Listener, PresharedKey, ProvisionerService};
use crate::session::{self, SessionOptions};
use crate::terraform::{self, TerraformOptions, WorkRoot};

const EXAMPLES: &str = "\
Examples:
  # What a template asks for (variables, admin/user scope, workspace tags)
  coder-provisioner parse ./my-template

  # Plan a workspace start, with a template variable and a rich parameter
  coder-provisioner plan ./my-template --var region=eu --param 'CPU cores=4'

  # Build it, keep the state, then stop it with that state
  coder-provisioner apply ./my-template --state-out ws.tfstate
  coder-provisioner apply ./my-template --transition stop --state ws.tfstate --state-out ws.tfstate

  # Convert captured Terraform output without running Terraform
  coder-provisioner graph --plan-json plan.json --dot plan.dot --json

  # Serve the gRPC Provisioner API on a private unix socket
  coder-provisioner serve --listen unix:///run/coder/provisioner.sock

  # Start a template from an embedded example, check it before publishing
  coder-provisioner init --example docker ./my-template
  coder-provisioner validate ./my-template";

/// Coder's Terraform provisioner.
#[derive(Debug, Parser)]
#[command(name = "coder-provisioner", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List a template's variables (admin or user scope), workspace tags and README.
    #[command(after_help = "Example:\n  coder-provisioner parse ./my-template --json")]
    Parse {
        /// Template directory.
        dir: PathBuf,
        /// Print the ParseComplete as proto3 JSON.
        #[arg(long)]
        json: bool,
    },
    /// Plan a workspace build: terraform init, plan, graph; prints resources and parameters.
    #[command(
        after_help = "Example:\n  coder-provisioner plan ./my-template --var region=eu --param 'CPU cores=4' --transition start"
    )]
    Plan(PlanArgs),
    /// Build a workspace: terraform init, plan, apply; writes the new state.
    #[command(
        after_help = "Example:\n  coder-provisioner apply ./my-template --state ws.tfstate --state-out ws.tfstate --transition stop"
    )]
    Apply(ApplyArgs),
    /// Convert captured `terraform show -json` and `terraform graph` output into resources.
    #[command(
        after_help = "Example:\n  terraform show -json tf.plan > plan.json && terraform graph -type=plan > plan.dot\n  coder-provisioner graph --plan-json plan.json --dot plan.dot"
    )]
    Graph(GraphArgs),
    /// List the example templates built into this binary, or write one out (--example).
    #[command(
        after_help = "Examples:\n  coder-provisioner init\n  coder-provisioner init --example kubernetes ./my-template"
    )]
    Init(InitArgs),
    /// Check a template before publishing it, offline: syntax, variables (admin/user),
    /// agents that would never connect, references, app slugs, parameter defaults, the
    /// persistent/ephemeral split, and a start/stop dry run when Terraform can initialise it.
    #[command(
        after_help = "Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage.\n\nExamples:\n  coder-provisioner validate ./my-template\n  coder-provisioner validate ./my-template --json --var region=eu\n  coder-provisioner validate ./my-template --static"
    )]
    Validate(ValidateArgs),
    /// Serve the gRPC Provisioner API (provisioner.Provisioner/Session).
    #[command(
        after_help = "Examples:\n  coder-provisioner serve --listen unix:///run/coder/provisioner.sock\n  coder-provisioner serve --listen 0.0.0.0:9090 --tls-cert server.pem --tls-key server.key --tls-client-ca clients-ca.pem\n  coder-provisioner serve --listen 127.0.0.1:9090 --psk-file /etc/coder/provisioner.key --terraform /usr/local/bin/terraform"
    )]
    Serve(ServeArgs),
}

/// How Terraform is found and run.
#[derive(Debug, Clone, Args)]
pub struct TerraformArgs {
    /// Terraform executable (default: `terraform` on PATH; version 1.5 or later).
    #[arg(long, value_name = "PATH", env = "CODER_PROVISIONER_TERRAFORM")]
    pub terraform: Option<PathBuf>,
    /// Terraform CLI configuration (TF_CLI_CONFIG_FILE), e.g. one that installs providers
    /// from a filesystem mirror.
    #[arg(long, value_name = "FILE")]
    pub cli_config: Option<PathBuf>,
    /// Provider plugin cache shared by builds (TF_PLUGIN_CACHE_DIR).
    #[arg(long, value_name = "DIR")]
    pub plugin_cache_dir: Option<PathBuf>,
    /// Where session work directories are created (default: a directory under the
    /// system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// After a cancel, how long Terraform may take to stop before it is killed
    /// (e.g. 300s, 5m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub exit_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transition {
    Start,
    Stop,
    Destroy,
}

impl From<Transition> for WorkspaceTransition {
    fn from(t: Transition) -> Self {
        match t {
            Transition::Start => WorkspaceTransition::Start,
            Transition::Stop => WorkspaceTransition::Stop,
            Transition::Destroy => WorkspaceTransition::Destroy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn proto_name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Inputs of a build.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Template directory.
    pub dir: PathBuf,
    /// A template variable (`terraform -var`), as NAME=VALUE; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub vars: Vec<(String, String)>,
    /// A rich parameter (`data "coder_parameter"`) value, as NAME=VALUE; repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub params: Vec<(String, String)>,
    /// An external auth access token, as PROVIDER_ID=TOKEN; repeatable.
    #[arg(long = "external-auth", value_name = "ID=TOKEN", value_parser = parse_pair)]
    pub external_auth: Vec<(String, String)>,
    /// The workspace transition to build.
    #[arg(long, value_enum, default_value_t = Transition::Start)]
    pub transition: Transition,
    /// The workspace's current Terraform state (from an earlier `apply --state-out`).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Workspace name (data.coder_workspace.me.name).
    #[arg(long, default_value = "dryrun")]
    pub workspace_name: String,
    /// Workspace owner's username (data.coder_workspace_owner.me.name).
    #[arg(long, default_value = "dryrunner")]
    pub owner: String,
    /// Workspace owner's email.
    #[arg(long, default_value = "")]
    pub owner_email: String,
    /// The deployment's URL, which agents connect to (CODER_AGENT_URL).
    #[arg(long, default_value = "http://localhost:3000")]
    pub access_url: String,
    /// Workspace id (default: derived from the owner and workspace name, so it stays the
    /// same from build to build).
    #[arg(long)]
    pub workspace_id: Option<String>,
    /// Lowest log level shown (Terraform's own log is included from `debug` down).
    #[arg(long, value_enum, default_value_t = Level::Info)]
    pub log_level: Level,
    /// Print each result as a proto3-JSON `Response` per line (field names as in the .proto).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub terraform: TerraformArgs,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub build: BuildArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Where to write the state after the build (also when it fails: the state then holds
    /// whatever was created).
    #[arg(long, value_name = "FILE")]
    pub state_out: PathBuf,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["plan_json", "state_json"])))]
pub struct GraphArgs {
    /// `terraform show -json <planfile>` output.
    #[arg(long, value_name = "FILE")]
    pub plan_json: Option<PathBuf>,
    /// `terraform show -json` (state) output.
    #[arg(long, value_name = "FILE")]
    pub state_json: Option<PathBuf>,
    /// `terraform graph` output (DOT).
    #[arg(long, value_name = "FILE")]
    pub dot: PathBuf,
    /// Print the GraphComplete as proto3 JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// host:port (e.g. 127.0.0.1:9090) or unix:///path/to/socket (created with mode 0600).
    /// TCP needs --tls-cert/--tls-key, --psk-file, or both (or --insecure).
    #[arg(long, value_name = "ADDR")]
    pub listen: ListenAddr,
    /// Serve TLS with this certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS: accept only clients with a certificate issued by one of these CAs (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Require every call to carry `authorization: Bearer <key>` with the key in FILE
    /// (surrounding whitespace ignored; at least 16 characters).
    #[arg(long, value_name = "FILE")]
    pub psk_file: Option<PathBuf>,
    /// Serve plain TCP with no TLS and no pre-shared key. Anyone who can reach the port runs
    /// Terraform with this machine's credentials and reads the secrets of every build.
    #[arg(long, conflicts_with_all = ["tls_cert", "psk_file"])]
    pub insecure: bool,
    #[command(flatten)]
    pub terraform: TerraformArgs,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// The example to write; without it the examples are listed.
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
    /// Where to write it (default: ./<NAME>). Must be empty or not exist, unless --force.
    pub dir: Option<PathBuf>,
    /// Write into a non-empty directory, overwriting the example's files there.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Template directory.
    pub dir: PathBuf,
    /// Print the report as one JSON document (for CI).
    #[arg(long)]
    pub json: bool,
    /// Only the static checks: never run Terraform.
    #[arg(long = "static")]
    pub static_only: bool,
    /// A template variable value for the dry run, as NAME=VALUE; repeatable. Needed for
    /// variables without a default.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_pair)]
    pub vars: Vec<(String, String)>,
    /// Terraform executable for the dry run (default: `terraform` on PATH).
    #[arg(long, value_name = "PATH", env = "CODER_PROVISIONER_TERRAFORM")]
    pub terraform: Option<PathBuf>,
    /// Terraform CLI configuration (TF_CLI_CONFIG_FILE) for the dry run, e.g. one with a
    /// provider mirror; by default Terraform's own lookup applies.
    #[arg(long, value_name = "FILE")]
    pub cli_config: Option<PathBuf>,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("{s:?} is not NAME=VALUE")),
    }
}

/// `300`, `300s`, `5m`, `1h`, `250ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 30s, 5m, 1h)"))?;
    let secs = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("{s:?} is not a duration (e.g. 30s, 5m, 1h)")),
    };
    Ok(secs)
}

/// An error with the exit code it deserves.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or input files: exit 2.
    Usage(anyhow::Error),
    /// The template or the build failed, or the machine could not run it: exit 1.
    Build(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) => ExitCode::from(2),
            Failure::Build(_) => ExitCode::from(1),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(e) | Failure::Build(e) => write!(f, "{e:#}"),
        }
    }
}

fn usage(e: anyhow::Error) -> Failure {
    Failure::Usage(e)
}

fn build(e: anyhow::Error) -> Failure {
    Failure::Build(e)
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Parse { dir, json } => run_parse(&dir, json),
        Command::Plan(args) => run_build(&args.build, None).await,
        Command::Apply(args) => run_build(&args.build, Some(&args.state_out)).await,
        Command::Graph(args) => run_graph(&args),
        Command::Serve(args) => run_serve(&args).await,
        Command::Init(args) => run_init(&args),
        Command::Validate(args) => run_validate(&args).await,
    }
}

fn run_init(args: &InitArgs) -> Result<(), Failure> {
    let Some(name) = &args.example else {
        if args.dir.is_some() {
            return Err(usage(anyhow!(
                "choose an example with --example NAME (one of: {})",
                crate::examples::names().join(", ")
            )));
        }
        let mut out = String::from("Example templates:\n");
        let width = crate::examples::EXAMPLES
            .iter()
            .map(|e| e.name.len())
            .max()
            .unwrap_or(0);
        for e in crate::examples::EXAMPLES {
            let _ = writeln!(out, "  {:<width$}  {}", e.name, e.summary);
        }
        out.push_str("\nWrite one with: coder-provisioner init --example NAME [DIR]\n");
        print!("{out}");
        return Ok(());
    };
    let example = crate::examples::find(name).ok_or_else(|| {
        usage(crate::examples::InitError::UnknownExample { name: name.clone() }.into())
    })?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(example.name));
    let written =
        crate::examples::write_example(example, &dir, args.force).map_err(|e| build(e.into()))?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    println!(
        "\nNext: coder-provisioner validate {dir}   (then push it to Coder: coder templates push -d {dir})",
        dir = dir.display()
    );
    Ok(())
}

async fn run_validate(args: &ValidateArgs) -> Result<(), Failure> {
    use crate::validate;
    let options = validate::Options {
        dry_run: !args.static_only,
        dry_run_options: validate::DryRunOptions {
            terraform: args.terraform.clone(),
            variables: args.vars.clone(),
            cli_config_file: args.cli_config.clone(),
            work_root: None,
        },
    };
    if !args.static_only && !args.json {
        eprintln!(
            "==> Checking {} (static checks, then a start/stop dry run)",
            args.dir.display()
        );
    }
    let report = validate::validate(&args.dir, &options)
        .await
        .map_err(|e| usage(e.into()))?;
    if args.json {
        println!("{}", validate::report::to_json(&report));
    } else {
        print!("{}", validate::report::to_text(&report));
    }
    if report.has_errors() {
        return Err(build(anyhow!(
            "{} has {} error(s)",
            args.dir.display(),
            report.count(validate::Severity::Error)
        )));
    }
    Ok(())
}

fn run_parse(dir: &Path, json: bool) -> Result<(), Failure> {
    if !dir.is_dir() {
        return Err(usage(anyhow!("{} is not a directory", dir.display())));
    }
    let complete = match parse::parse_template_dir(dir) {
        Ok(parsed) => parsed.to_parse_complete(),
        Err(e) => e.to_parse_complete(),
    };
    let failed = !complete.error.is_empty();
    if json {
        print_json(&response::Type::Parse(complete.clone())).map_err(build)?;
    } else if !failed {
        let mut out = String::new();
        if complete.template_variables.is_empty() {
            out.push_str("No variables.\n");
        } else {
            out.push_str("Variables:\n");
            for v in &complete.template_variables {
                let scope = match v.scope() {
                    coder_proto::provisioner::ParameterScope::Admin => "admin",
                    coder_proto::provisioner::ParameterScope::User => "user",
                    _ => "unspecified",
                };
                let _ = write!(out, "  {} ({scope}", v.name);
                if !v.r#type.is_empty() {
                    let _ = write!(out, ", {}", v.r#type);
                }
                if v.required {
                    out.push_str(", required");
                } else if v.sensitive {
                    out.push_str(", has a default");
                } else {
                    let _ = write!(out, ", default {:?}", v.default_value);
                }
                if v.sensitive {
                    out.push_str(", sensitive");
                }
                out.push(')');
                if !v.description.is_empty() {
                    let _ = write!(out, ": {}", v.description);
                }
                out.push('\n');
            }
        }
        if !complete.workspace_tags.is_empty() {
            out.push_str("Workspace tags:\n");
            let tags: std::collections::BTreeMap<_, _> = complete.workspace_tags.iter().collect();
            for (k, v) in tags {
                let _ = writeln!(out, "  {k} = {v}");
            }
        }
        if !complete.readme.is_empty() {
            let _ = writeln!(out, "README.md: {} bytes", complete.readme.len());
        }
        print!("{out}");
    }
    if failed {
        return Err(build(anyhow!("{}", complete.error)));
    }
    Ok(())
}

fn run_graph(args: &GraphArgs) -> Result<(), Failure> {
    let read = |path: &Path| {
        std::fs::read(path)
            .with_context(|| format!("read {}", path.display()))
            .map_err(usage)
    };
    let dot = String::from_utf8_lossy(&read(&args.dot)?).into_owned();
    let modules = match (&args.plan_json, &args.state_json) {
        (Some(p), _) => serde_json::from_slice::<TfPlan>(&read(p)?)
            .with_context(|| format!("{} is not `terraform show -json` plan output", p.display()))
            .map_err(usage)?
            .modules_for_conversion(),
        (None, Some(s)) => serde_json::from_slice::<TfState>(&read(s)?)
            .with_context(|| format!("{} is not `terraform show -json` state output", s.display()))
            .map_err(usage)?
            .modules_for_conversion(),
        (None, None) => return Err(usage(anyhow!("--plan-json or --state-json is required"))),
    };
    let complete = match convert::convert_state(&modules, &dot) {
        Ok(c) => {
            for w in &c.warnings {
                eprintln!("warning: {w}");
            }
            GraphComplete {
                resources: c.resources,
                parameters: c.parameters,
                external_auth_providers: c.external_auth_providers,
                presets: c.presets,
                has_ai_tasks: c.has_ai_tasks,
                ai_tasks: c.ai_tasks,
                has_external_agents: c.has_external_agents,
                ..Default::default()
            }
        }
        Err(e) => GraphComplete {
            error: e.to_string(),
            ..Default::default()
        },
    };
    if args.json {
        print_json(&response::Type::Graph(complete.clone())).map_err(build)?;
    } else if complete.error.is_empty() {
        print!("{}", describe_graph(&complete));
    }
    if !complete.error.is_empty() {
        return Err(build(anyhow!("{}", complete.error)));
    }
    Ok(())
}

/// Finds Terraform and prepares the shared session settings.
async fn session_options(args: &TerraformArgs) -> Result<Arc<SessionOptions>, Failure> {
    let binary = terraform::locate(args.terraform.as_deref())
        .await
        .map_err(|e| build(e.into()))?;
    tracing::info!(path = %binary.path.display(), version = %binary.version_text, "using terraform");
    let mut tf = TerraformOptions::new(binary);
    tf.cli_config_file = match &args.cli_config {
        Some(p) => Some(
            std::path::absolute(p)
                .with_context(|| format!("resolve {}", p.display()))
                .map_err(usage)?,
        ),
        None => None,
    };
    if let Some(dir) = &args.plugin_cache_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("create plugin cache {}", dir.display()))
            .map_err(build)?;
        tf.plugin_cache_dir = Some(
            std::fs::canonicalize(dir)
                .with_context(|| format!("resolve {}", dir.display()))
                .map_err(build)?,
        );
    }
    tf.exit_timeout = args.exit_timeout;
    let root = args
        .work_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("coder-provisioner"));
    let work_root = WorkRoot::new(&root)
        .with_context(|| format!("create work directory {}", root.display()))
        .map_err(build)?;
    let removed = work_root.clean_stale();
    if removed > 0 {
        tracing::info!(removed, "removed session directories of earlier runs");
    }
    Ok(Arc::new(SessionOptions::new(Arc::new(tf), work_root)))
}

/// TLS and the pre-shared key from `serve`'s options; plain TCP is refused unless `--insecure`.
pub fn serve_security(args: &ServeArgs) -> Result<server::Security, Failure> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            server::load_tls(cert, key, args.tls_client_ca.as_deref())
                .map_err(|e| usage(e.into()))?,
        ),
        _ => None,
    };
    let psk = match &args.psk_file {
        Some(path) => Some(PresharedKey::from_file(path).map_err(|e| usage(e.into()))?),
        None => None,
    };
    let security = server::Security { tls, psk };
    if matches!(args.listen, ListenAddr::Tcp(_)) && security.is_open() && !args.insecure {
        return Err(usage(anyhow!(
            "refusing to serve on TCP {} without TLS or a pre-shared key: whoever connects runs \
             Terraform with this machine's credentials and reads every build's secrets. Use \
             --tls-cert and --tls-key (add --tls-client-ca for mutual TLS), --psk-file, or a \
             unix socket (--listen unix:///path); --insecure serves plain TCP anyway",
            args.listen
        )));
    }
    Ok(security)
}

async fn run_serve(args: &ServeArgs) -> Result<(), Failure> {
    // Arguments first: a refused configuration should not wait for Terraform to be found.
    let security = serve_security(args)?;
    let options = session_options(&args.terraform).await?;
    let listener = Listener::bind(&args.listen)
        .await
        .map_err(|e| build(e.into()))?;
    let protection = match (&args.listen, &security.tls, &security.psk) {
        (ListenAddr::Tcp(_), None, None) => "INSECURE: plain TCP, no TLS, no pre-shared key",
        (ListenAddr::Unix(_), None, None) => "unix socket, mode 0600",
        (_, Some(_), None) if args.tls_client_ca.is_some() => "mutual TLS",
        (_, Some(_), None) => "TLS",
        (_, None, Some(_)) => "pre-shared key",
        (_, Some(_), Some(_)) if args.tls_client_ca.is_some() => "mutual TLS + pre-shared key",
        (_, Some(_), Some(_)) => "TLS + pre-shared key",
    };
    if matches!(args.listen, ListenAddr::Tcp(_)) && security.is_open() {
        // --insecure: said on stderr, where it cannot be missed, and in the log.
        eprintln!(
            "WARNING: --insecure: serving gRPC on plain TCP {} with no TLS and no pre-shared key. \
             Anyone who can reach this port can run Terraform with this machine's credentials \
             and read the secrets of every build. Use only on a trusted, isolated network.",
            listener.local_addr()
        );
        tracing::warn!(addr = %listener.local_addr(), "serving without TLS or a pre-shared key (--insecure)");
    }
    // The one line a supervisor or test waits for.
    eprintln!(
        "coder-provisioner listening on {} ({protection}; terraform {} at {})",
        listener.local_addr(),
        options.terraform.binary.version_text,
        options.terraform.binary.path.display()
    );
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    };
    server::serve(
        listener,
        ProvisionerService::new(options),
        security,
        shutdown,
    )
    .await
    .map_err(|e| build(e.into()))
}

/// A tar of `dir` for `InitRequest.template_source_archive`: regular files and
/// directories only, without Terraform's working files (`.terraform/`, states, plans).
pub fn archive_dir(dir: &Path) -> anyhow::Result<Vec<u8>> {
    fn skip(name: &str) -> bool {
        name == ".terraform"
            || name.contains(".tfstate")
            || name.ends_with(".tfplan")
            || name == ".git"
    }
    fn add(builder: &mut tar::Builder<Vec<u8>>, root: &Path, dir: &Path) -> anyhow::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("read {}", dir.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("read {}", dir.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            if skip(&name.to_string_lossy()) {
                continue;
            }
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap_or(&path);
            // Follows links, as `coder templates push` does: the archive holds their targets.
            let meta =
                std::fs::metadata(&path).with_context(|| format!("read {}", path.display()))?;
            if meta.is_dir() {
                builder
                    .append_dir(relative, &path)
                    .with_context(|| format!("archive {}", path.display()))?;
                add(builder, root, &path)?;
            } else if meta.is_file() {
                if meta.len() > terraform::MAX_FILE_SIZE {
                    bail!(
                        "{} is {} bytes; template files may be at most 10 MiB",
                        path.display(),
                        meta.len()
                    );
                }
                builder
                    .append_path_with_name(&path, relative)
                    .with_context(|| format!("archive {}", path.display()))?;
            }
        }
        Ok(())
    }
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(true);
    add(&mut builder, dir, dir)?;
    builder.into_inner().context("finish template archive")
}

/// A UUID-shaped id that is the same for the same inputs.
fn stable_id(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\0").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Version 8 (custom), RFC 4122 variant.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

fn metadata(args: &BuildArgs) -> Metadata {
    let workspace_id = args
        .workspace_id
        .clone()
        .unwrap_or_else(|| stable_id(&["workspace", &args.owner, &args.workspace_name]));
    Metadata {
        coder_url: args.access_url.clone(),
        workspace_transition: WorkspaceTransition::from(args.transition).into(),
        workspace_name: args.workspace_name.clone(),
        workspace_owner: args.owner.clone(),
        workspace_owner_email: args.owner_email.clone(),
        workspace_id,
        workspace_owner_id: stable_id(&["owner", &args.owner]),
        template_name: args
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ..Default::default()
    }
}

/// Prints session logs as they come and waits for the Complete.
struct Driver {
    requests: UnboundedSender<Request>,
    responses: UnboundedReceiver<Result<Response, tonic::Status>>,
    json: bool,
    min_level: LogLevel,
    cancels: u32,
}

impl Driver {
    fn send(&self, r#type: request::Type) -> Result<(), Failure> {
        self.requests
            .send(Request {
                r#type: Some(r#type),
            })
            .map_err(|_| build(anyhow!("the session ended unexpectedly")))
    }

    /// Sends a request and returns its Complete. Ctrl-C cancels the request (Terraform is
    /// interrupted and finishes what it must); a second Ctrl-C gives up at once.
    async fn call(&mut self, r#type: request::Type) -> Result<response::Type, Failure> {
        self.send(r#type)?;
        loop {
            let next = tokio::select! {
                next = self.responses.recv() => next,
                _ = tokio::signal::ctrl_c() => {
                    self.cancels += 1;
                    if self.cancels > 1 {
                        return Err(build(anyhow!("interrupted")));
                    }
                    eprintln!("Cancelling: Terraform is stopping (press Ctrl-C again to give up at once)...");
                    self.send(request::Type::Cancel(Default::default()))?;
                    continue;
                }
            };
            match next {
                Some(Ok(Response {
                    r#type: Some(response::Type::Log(log)),
                })) => {
                    if log.level >= self.min_level as i32 {
                        print_log(log.level(), &log.output);
                    }
                }
                Some(Ok(Response {
                    r#type: Some(complete),
                })) => {
                    if self.json {
                        print_json(&complete).map_err(build)?;
                    }
                    return Ok(complete);
                }
                Some(Ok(Response { r#type: None })) => {}
                Some(Err(status)) => return Err(build(anyhow!("{}", status.message()))),
                None => return Err(build(anyhow!("the session ended unexpectedly"))),
            }
        }
    }
}

fn print_log(level: LogLevel, output: &str) {
    let prefix = match level {
        LogLevel::Trace => "trace: ",
        LogLevel::Debug => "debug: ",
        LogLevel::Info => "",
        LogLevel::Warn => "warning: ",
        LogLevel::Error => "error: ",
    };
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "  {prefix}{output}");
}

fn stage(text: &str) {
    eprintln!("==> {text}");
}

fn done(started: Instant) {
    eprintln!("    done in {:.1}s", started.elapsed().as_secs_f64());
}

async fn run_build(args: &BuildArgs, state_out: Option<&Path>) -> Result<(), Failure> {
    if !args.dir.is_dir() {
        return Err(usage(anyhow!("{} is not a directory", args.dir.display())));
    }
    let state = match &args.state {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("read state {}", path.display()))
            .map_err(usage)?,
        None => Vec::new(),
    };
    let archive = archive_dir(&args.dir).map_err(usage)?;
    // Parse first to learn which variables are sensitive: their values are then hidden in
    // every log line. A template that does not parse fails in init with Terraform's words.
    let sensitive: BTreeSet<String> = parse::parse_template_dir(&args.dir)
        .map(|p| {
            p.variables
                .into_iter()
                .filter(|v| v.sensitive)
                .map(|v| v.name)
                .collect()
        })
        .unwrap_or_default();
    let options = session_options(&args.terraform).await?;
    stage(&format!(
        "Using terraform {} ({})",
        options.terraform.binary.version_text,
        options.terraform.binary.path.display()
    ));

    let (req_tx, req_rx) = tokio::sync::mpsc::unbounded_channel::<Request>();
    let (resp_tx, resp_rx) = tokio::sync::mpsc::unbounded_channel();
    let requests = UnboundedReceiverStream::new(req_rx).map(Ok::<_, Infallible>);
    let session_task = tokio::spawn(session::run(options, requests, resp_tx));
    let mut driver = Driver {
        requests: req_tx,
        responses: resp_rx,
        json: args.json,
        min_level: session::parse_log_level(args.log_level.proto_name()),
        cancels: 0,
    };
    let result = drive_build(&mut driver, args, archive, state, &sensitive, state_out).await;
    // Closing the requests ends the session, which removes its work directory.
    drop(driver);
    let _ = session_task.await;
    result
}

async fn drive_build(
    driver: &mut Driver,
    args: &BuildArgs,
    archive: Vec<u8>,
    state: Vec<u8>,
    sensitive: &BTreeSet<String>,
    state_out: Option<&Path>,
) -> Result<(), Failure> {
    // Terraform's own log (TF_LOG) is only worth its volume when asked for; other levels
    // are filtered here.
    let session_level = match args.log_level {
        Level::Trace | Level::Debug => args.log_level.proto_name(),
        _ => "",
    };
    driver.send(request::Type::Config(Config {
        provisioner_log_level: session_level.to_string(),
        ..Default::default()
    }))?;

    stage("Initializing Terraform");
    let started = Instant::now();
    let init = driver
        .call(request::Type::Init(InitRequest {
            template_source_archive: archive,
            omit_module_files: true,
        }))
        .await?;
    check(&init)?;
    done(started);

    let metadata = metadata(args);
    stage(&format!(
        "Planning workspace {:?} ({})",
        args.workspace_name,
        crate::terraform::env::transition_name(metadata.workspace_transition())
    ));
    let started = Instant::now();
    let plan = driver
        .call(request::Type::Plan(PlanRequest {
            metadata: Some(metadata.clone()),
            rich_parameter_values: args
                .params
                .iter()
                .map(|(name, value)| RichParameterValue {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            variable_values: args
                .vars
                .iter()
                .map(|(name, value)| VariableValue {
                    name: name.clone(),
                    value: value.clone(),
                    sensitive: sensitive.contains(name),
                })
                .collect(),
            external_auth_providers: args
                .external_auth
                .iter()
                .map(|(id, token)| ExternalAuthProvider {
                    id: id.clone(),
                    access_token: token.clone(),
                })
                .collect(),
            previous_parameter_values: Vec::new(),
            state: state.clone(),
        }))
        .await?;
    check(&plan)?;
    done(started);

    match state_out {
        None => {
            stage("Reading the planned resources");
            let graph = driver
                .call(request::Type::Graph(GraphRequest {
                    source: GraphSource::SourcePlan.into(),
                }))
                .await?;
            check(&graph)?;
            if let (false, response::Type::Graph(g)) = (args.json, &graph) {
                print!("{}", describe_graph(g));
                if let response::Type::Plan(p) = &plan {
                    if p.daily_cost > 0 {
                        println!("Daily cost: {}", p.daily_cost);
                    }
                }
            }
            Ok(())
        }
        Some(out) => {
            stage("Applying");
            let started = Instant::now();
            let apply = driver
                .call(request::Type::Apply(ApplyRequest {
                    metadata: Some(metadata),
                    state,
                }))
                .await?;
            if let response::Type::Apply(a) = &apply {
                // Written even when the apply failed: it holds what Terraform created.
                if !a.state.is_empty() {
                    terraform::workdir::write_private(out, &a.state)
                        .with_context(|| format!("write state {}", out.display()))
                        .map_err(build)?;
                    eprintln!("    state written to {}", out.display());
                }
            }
            check(&apply)?;
            done(started);
            if let (false, response::Type::Apply(a)) = (args.json, &apply) {
                print!("{}", describe_resources(&a.resources, &a.parameters));
            }
            Ok(())
        }
    }
}

/// A Complete's error as a build failure.
fn check(complete: &response::Type) -> Result<(), Failure> {
    match session::complete_error(complete) {
        None => Ok(()),
        Some(error) => Err(build(anyhow!("{error}"))),
    }
}

fn describe_graph(g: &GraphComplete) -> String {
    let mut out = describe_resources(&g.resources, &g.parameters);
    if !g.external_auth_providers.is_empty() {
        out.push_str("External auth:\n");
        for p in &g.external_auth_providers {
            let optional = if p.optional { " (optional)" } else { "" };
            let _ = writeln!(out, "  {}{optional}", p.id);
        }
    }
    if !g.presets.is_empty() {
        out.push_str("Presets:\n");
        for p in &g.presets {
            let _ = writeln!(out, "  {} ({} parameters)", p.name, p.parameters.len());
        }
    }
    out
}

/// Resources with their agents and apps, then parameters, as an indented listing.
pub fn describe_resources(resources: &[Resource], parameters: &[RichParameter]) -> String {
    let mut out = String::new();
    if resources.is_empty() {
        out.push_str("No resources.\n");
    } else {
        out.push_str("Resources:\n");
    }
    for r in resources {
        let module = if r.module_path.is_empty() {
            String::new()
        } else {
            format!("{}.", r.module_path)
        };
        let _ = write!(out, "  {module}{}.{}", r.r#type, r.name);
        if r.hide {
            out.push_str(" (hidden)");
        }
        if r.daily_cost > 0 {
            let _ = write!(out, " (daily cost {})", r.daily_cost);
        }
        out.push('\n');
        for m in &r.metadata {
            let value = if m.sensitive {
                "(sensitive)".to_string()
            } else if m.is_null {
                "(null)".to_string()
            } else {
                format!("{:?}", m.value)
            };
            let _ = writeln!(out, "    {} = {value}", m.key);
        }
        for a in &r.agents {
            let auth = match &a.auth {
                Some(agent::Auth::Token(_)) => "token",
                Some(agent::Auth::InstanceId(_)) => "instance identity",
                None => "none",
            };
            let _ = writeln!(
                out,
                "    agent {} ({}/{}, auth {auth})",
                a.name, a.operating_system, a.architecture
            );
            for app in &a.apps {
                let target = if !app.url.is_empty() {
                    app.url.clone()
                } else {
                    app.command.clone()
                };
                let _ = writeln!(out, "      app {}: {target}", app.slug);
            }
            for s in &a.scripts {
                let _ = writeln!(out, "      script {:?}", s.display_name);
            }
        }
    }
    if !parameters.is_empty() {
        out.push_str("Parameters:\n");
        for p in parameters {
            let _ = write!(out, "  {} ({}", p.name, p.r#type);
            if p.required {
                out.push_str(", required");
            } else {
                let _ = write!(out, ", default {:?}", p.default_value);
            }
            if p.mutable {
                out.push_str(", mutable");
            }
            if p.ephemeral {
                out.push_str(", ephemeral");
            }
            out.push_str(")\n");
        }
    }
    out
}

/// The proto3 JSON form (field names as in the .proto, enums by name, bytes in base64) of
/// `Response{<complete>}`, on one line of stdout.
fn print_json(complete: &response::Type) -> anyhow::Result<()> {
    let line = response_json(&Response {
        r#type: Some(complete.clone()),
    })?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

/// Proto3 JSON of a `provisioner.Response`, through the compiled descriptors (so the
/// output follows the .proto exactly, including well-known types like Timestamp).
pub fn response_json(resp: &Response) -> anyhow::Result<String> {
    static POOL: OnceLock<Result<prost_reflect::DescriptorPool, String>> = OnceLock::new();
    let pool = POOL
        .get_or_init(|| {
            prost_reflect::DescriptorPool::decode(coder_proto::FILE_DESCRIPTOR_SET)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| anyhow!("load protobuf descriptors: {e}"))?;
    let desc = pool
        .get_message_by_name("provisioner.Response")
        .ok_or_else(|| anyhow!("provisioner.Response is not in the descriptor set"))?;
    let message = prost_reflect::DynamicMessage::decode(desc, resp.encode_to_vec().as_slice())
        .context("re-decode response")?;
    let mut ser = serde_json::Serializer::new(Vec::new());
    message
        .serialize_with_options(
            &mut ser,
            &prost_reflect::SerializeOptions::new().use_proto_field_name(true),
        )
        .context("serialize response")?;
    String::from_utf8(ser.into_inner()).context("JSON is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use coder_proto::provisioner::{ParseComplete, PlanComplete, TemplateVariable};

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn pairs() {
        assert_eq!(
            parse_pair("a=b=c"),
            Ok(("a".to_string(), "b=c".to_string()))
        );
        assert_eq!(
            parse_pair("CPU cores=4").map(|p| p.0),
            Ok("CPU cores".into())
        );
        assert!(parse_pair("novalue").is_err());
        assert!(parse_pair("=x").is_err());
    }

    #[test]
    fn stable_ids_are_stable_and_uuid_shaped() {
        let a = stable_id(&["workspace", "alice", "dev"]);
        assert_eq!(a, stable_id(&["workspace", "alice", "dev"]));
        assert_ne!(a, stable_id(&["workspace", "bob", "dev"]));
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }

    #[test]
    fn json_uses_proto_field_names_and_enum_names() {
        let json = response_json(&Response {
            r#type: Some(response::Type::Parse(ParseComplete {
                template_variables: vec![TemplateVariable {
                    name: "A".into(),
                    default_value: "x".into(),
                    scope: coder_proto::provisioner::ParameterScope::Admin.into(),
                    ..Default::default()
                }],
                readme: b"hi".to_vec(),
                ..Default::default()
            })),
        })
        .expect("json");
        assert_eq!(
            json,
            r#"{"parse":{"template_variables":[{"name":"A","default_value":"x","scope":"ADMIN"}],"readme":"aGk="}}"#
        );
        let json = response_json(&Response {
            r#type: Some(response::Type::Plan(PlanComplete {
                daily_cost: 3,
                ..Default::default()
            })),
        })
        .expect("json");
        assert_eq!(json, r#"{"plan":{"dailyCost":3}}"#);
    }

    #[test]
    fn archives_skip_terraform_working_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("main.tf"), "# main").expect("write");
        std::fs::create_dir_all(dir.path().join(".terraform/providers")).expect("mkdir");
        std::fs::write(dir.path().join(".terraform/providers/x"), "x").expect("write");
        std::fs::write(dir.path().join("terraform.tfstate"), "{}").expect("write");
        std::fs::create_dir(dir.path().join("module")).expect("mkdir");
        std::fs::write(dir.path().join("module/main.tf"), "# m").expect("write");
        let bytes = archive_dir(dir.path()).expect("archive");
        let out = tempfile::tempdir().expect("tempdir");
        let files = crate::terraform::extract_archive(&bytes, out.path()).expect("extract");
        let mut names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        names.sort();
        assert_eq!(names, vec!["main.tf", "module/main.tf"]);
    }

    #[test]
    fn command_line_parses() {
        let cli = Cli::try_parse_from([
            "coder-provisioner",
            "apply",
            "dir",
            "--var",
            "a=1",
            "--param",
            "b=2",
            "--transition",
            "stop",
            "--state-out",
            "out",
        ])
        .expect("parse");
        let Command::Apply(args) = cli.command else {
            panic!("not apply")
        };
        assert_eq!(args.build.vars, vec![("a".to_string(), "1".to_string())]);
        assert_eq!(args.build.transition, Transition::Stop);
        assert_eq!(args.state_out, PathBuf::from("out"));
        let err = Cli::try_parse_from(["coder-provisioner", "plan", "dir", "--var", "oops"])
            .expect_err("bad var");
        assert_eq!(err.exit_code(), 2);
        assert!(Cli::try_parse_from(["coder-provisioner", "graph", "--dot", "x"]).is_err());
    }
}

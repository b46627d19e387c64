//! One provisioner session: the request flow of Coder's `Session` stream
//! (coder-provisioner.md §1, §3.2), independent of the transport.
//!
//! The client sends `Config` first, then requests one at a time: `Parse`, `Init` (with the
//! template archive), `Plan`, `Graph`, `Apply`. For each, the session streams zero or more
//! `Log`s and then exactly one matching *Complete. A `Cancel` that arrives while a request
//! runs interrupts Terraform; the cancelled request still answers with its Complete. Apply
//! uses the plan made earlier in the same session, which is kept here and never sent back.
//! Everything that can go wrong with a request is reported in its Complete's `error`; only
//! a client breaking the protocol ends the session with an error.

use std::fmt::Display;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use coder_proto::provisioner::{
    request, response, ApplyComplete, ApplyRequest, ChunkPiece, Config, DataUpload, DataUploadType,
    GraphComplete, GraphRequest, GraphSource, InitComplete, InitRequest, Log, LogLevel,
    ParseComplete, PlanComplete, PlanRequest, PrebuiltWorkspaceBuildStage, Request,
    ResourceReplacement, Response, WorkspaceTransition,
};
use sha2::Digest;
use tokio::sync::mpsc::UnboundedSender;
use tokio_stream::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::convert::{self, ConvertedState, TfModule, TfPlan, TfState};
use crate::parse;
use crate::terraform::timings::stage_timing;
use crate::terraform::workdir::clear_dir;
use crate::terraform::{
    archive_module_files, build_env, check_state, extract_archive, BuildInputs, Executor, LogSink,
    SessionDir, TerraformOptions, WorkRoot, MAX_MODULE_ARCHIVE_SIZE,
};

/// Logged (INFO) when a destroy is planned for a workspace without state (upstream text).
pub const NOTHING_TO_PLAN: &str = "The terraform state does not exist, there is nothing to do";
/// Logged (INFO) when such a plan is applied (upstream text).
pub const NOTHING_TO_APPLY: &str = "The terraform plan does not exist, there is nothing to do";

/// The largest response upstream's transport carries (dRPC's 4 MiB message limit): an
/// InitComplete bigger than this sends its module files ahead in pieces.
pub const MAX_INLINE_RESPONSE: usize = 4 << 20;
/// The size of each `ChunkPiece` (upstream's `ChunkSize`, 2 MiB).
pub const UPLOAD_CHUNK_SIZE: usize = 2 << 20;

/// What every session of a server shares.
#[derive(Debug)]
pub struct SessionOptions {
    pub terraform: Arc<TerraformOptions>,
    /// Where session directories are created.
    pub work_root: WorkRoot,
    /// Cancelled when the server shuts down: running requests are cancelled (and still
    /// answered), then sessions end.
    pub shutdown: CancellationToken,
}

impl SessionOptions {
    pub fn new(terraform: Arc<TerraformOptions>, work_root: WorkRoot) -> SessionOptions {
        SessionOptions {
            terraform,
            work_root,
            shutdown: CancellationToken::new(),
        }
    }
}

/// Where a session's answers go. A protocol error is sent last, as an `Err` (for gRPC it
/// becomes the call's status); a dropped receiver tells the session its client is gone.
pub type ResponseSender = UnboundedSender<Result<Response, tonic::Status>>;

/// A client broke the protocol; the session ends.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    // Upstream's wording.
    #[error("first request must be Config")]
    FirstNotConfig,
    #[error("Config may only be sent once, as the first request")]
    ConfigAgain,
    #[error("request has no type")]
    Empty,
    #[error("got new request {new} while old request {old} still processing")]
    Overlap {
        new: &'static str,
        old: &'static str,
    },
    #[error("create session directory: {0}")]
    WorkDir(std::io::Error),
    #[error("receive request: {0}")]
    Receive(String),
}

/// Runs a session: reads `requests` until the client closes them, answering on
/// `responses`. The session directory is gone when this returns. A protocol error is both
/// returned and sent as the last message (`FAILED_PRECONDITION`).
pub async fn run<S, E>(
    options: Arc<SessionOptions>,
    requests: S,
    responses: ResponseSender,
) -> Result<(), SessionError>
where
    S: Stream<Item = Result<Request, E>> + Unpin + Send,
    E: Display,
{
    let result = run_inner(options, requests, responses.clone()).await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, "session ended by a protocol error");
        let _ = responses.send(Err(tonic::Status::failed_precondition(e.to_string())));
    }
    result
}

async fn run_inner<S, E>(
    options: Arc<SessionOptions>,
    mut requests: S,
    responses: ResponseSender,
) -> Result<(), SessionError>
where
    S: Stream<Item = Result<Request, E>> + Unpin + Send,
    E: Display,
{
    let config = match requests.next().await {
        None => return Ok(()),
        Some(Err(e)) => return Err(SessionError::Receive(e.to_string())),
        Some(Ok(Request {
            r#type: Some(request::Type::Config(config)),
        })) => config,
        Some(Ok(_)) => return Err(SessionError::FirstNotConfig),
    };
    let dir = options
        .work_root
        .create_session()
        .map_err(SessionError::WorkDir)?;
    tracing::info!(dir = %dir.path().display(), log_level = %config.provisioner_log_level, "session started");
    let mut session = Session::new(&options, dir, &config, responses);
    let result = session.serve(&mut requests, &options.shutdown).await;
    session.dir.remove().await;
    tracing::info!(ok = result.is_ok(), "session ended");
    result
}

/// What no log line may show, and its removal: [`crate::secrets`].
pub use crate::secrets::Secrets;

/// Sends logs as `Response{log}` on the session's stream, dropping those below the level
/// the client asked for and hiding secrets.
struct ResponseSink {
    tx: ResponseSender,
    min_level: LogLevel,
    secrets: Arc<Secrets>,
}

impl LogSink for ResponseSink {
    fn log(&self, level: LogLevel, output: &str) {
        if (level as i32) < (self.min_level as i32) {
            return;
        }
        // A closed stream means the client is gone; the request is being cancelled.
        let _ = self.tx.send(Ok(Response {
            r#type: Some(response::Type::Log(Log {
                level: level.into(),
                output: self.secrets.redact(output),
            })),
        }));
    }

    fn observe(&self, line: &crate::terraform::logs::JsonLogLine) {
        self.secrets.observe(line);
    }
}

/// `Config.provisioner_log_level` → the lowest level sent. Empty or unknown: everything,
/// as upstream (its lookup of an unknown name yields TRACE).
pub fn parse_log_level(text: &str) -> LogLevel {
    LogLevel::from_str_name(&text.trim().to_ascii_uppercase()).unwrap_or(LogLevel::Trace)
}

struct CachedPlan {
    /// `terraform show -json` of the plan.
    json: Vec<u8>,
    /// A destroy without state: nothing was planned and nothing will be applied.
    nothing_to_do: bool,
}

struct Session {
    dir: SessionDir,
    executor: Executor,
    sink: ResponseSink,
    secrets: Arc<Secrets>,
    terraform_log: bool,
    /// An archive was unpacked into the directory.
    has_template: bool,
    /// The last `init` succeeded.
    initialized: bool,
    plan: Option<CachedPlan>,
}

fn request_name(kind: &request::Type) -> &'static str {
    match kind {
        request::Type::Config(_) => "config",
        request::Type::Parse(_) => "parse",
        request::Type::Init(_) => "init",
        request::Type::Plan(_) => "plan",
        request::Type::Apply(_) => "apply",
        request::Type::Graph(_) => "graph",
        request::Type::Cancel(_) => "cancel",
    }
}

impl Session {
    fn new(
        options: &SessionOptions,
        dir: SessionDir,
        config: &Config,
        tx: ResponseSender,
    ) -> Session {
        let secrets = Arc::new(Secrets::default());
        Session {
            executor: Executor::new(options.terraform.clone(), dir.path()),
            dir,
            sink: ResponseSink {
                tx,
                min_level: parse_log_level(&config.provisioner_log_level),
                secrets: secrets.clone(),
            },
            secrets,
            terraform_log: !config.provisioner_log_level.trim().is_empty(),
            has_template: false,
            initialized: false,
            plan: None,
        }
    }

    async fn serve<S, E>(
        &mut self,
        requests: &mut S,
        shutdown: &CancellationToken,
    ) -> Result<(), SessionError>
    where
        S: Stream<Item = Result<Request, E>> + Unpin + Send,
        E: Display,
    {
        let tx = self.sink.tx.clone();
        loop {
            let next = tokio::select! {
                next = requests.next() => next,
                _ = shutdown.cancelled() => return Ok(()),
                _ = tx.closed() => return Ok(()),
            };
            let kind = match next {
                // The client is done: the session ends normally.
                None => return Ok(()),
                Some(Err(e)) => {
                    tracing::info!(error = %e, "request stream failed; ending session");
                    return Ok(());
                }
                Some(Ok(Request { r#type: None })) => return Err(SessionError::Empty),
                Some(Ok(Request {
                    r#type: Some(request::Type::Cancel(_)),
                })) => {
                    // The request it meant has finished already.
                    tracing::warn!("ignoring cancel: no request is running");
                    continue;
                }
                Some(Ok(Request {
                    r#type: Some(request::Type::Config(_)),
                })) => return Err(SessionError::ConfigAgain),
                Some(Ok(Request { r#type: Some(kind) })) => kind,
            };
            let name = request_name(&kind);
            let started = Instant::now();
            tracing::info!(request = name, "request started");
            let cancel = CancellationToken::new();
            let mut violation = None;
            let mut input_closed = false;
            let mut complete = {
                let work = self.handle(kind, &cancel);
                tokio::pin!(work);
                loop {
                    tokio::select! {
                        complete = &mut work => break complete,
                        next = requests.next(), if !input_closed => match next {
                            Some(Ok(Request { r#type: Some(request::Type::Cancel(_)) })) => {
                                tracing::info!(request = name, "cancel requested");
                                cancel.cancel();
                            }
                            Some(Ok(other)) => {
                                let new = other.r#type.as_ref().map_or("empty", request_name);
                                violation = Some(SessionError::Overlap { new, old: name });
                                input_closed = true;
                                cancel.cancel();
                            }
                            // Half-closed: no more requests, but this one still gets its
                            // answer.
                            None => input_closed = true,
                            Some(Err(e)) => {
                                tracing::info!(error = %e, "request stream failed; cancelling");
                                input_closed = true;
                                cancel.cancel();
                            }
                        },
                        // Nobody listens for the answer any more.
                        _ = tx.closed(), if !cancel.is_cancelled() => cancel.cancel(),
                        _ = shutdown.cancelled(), if !cancel.is_cancelled() => {
                            tracing::info!(request = name, "server shutting down; cancelling");
                            input_closed = true;
                            cancel.cancel();
                        }
                    }
                }
            };
            // Module files too large for one message go ahead of the Complete.
            let uploads = match &mut complete {
                response::Type::Init(init) => module_files_upload(init),
                _ => Vec::new(),
            };
            for upload in uploads {
                let _ = tx.send(Ok(upload));
            }
            // Errors quote Terraform's stderr and our own messages; they reach the client like
            // its logs do, so they hide the same secrets.
            if let Some(error) = complete_error_mut(&mut complete) {
                *error = self.secrets.redact(error);
            }
            let error = complete_error(&complete);
            tracing::info!(
                request = name,
                elapsed = ?started.elapsed(),
                cancelled = cancel.is_cancelled(),
                error = error.unwrap_or(""),
                "request finished"
            );
            let _ = tx.send(Ok(Response {
                r#type: Some(complete),
            }));
            if let Some(v) = violation {
                return Err(v);
            }
            if input_closed {
                return Ok(());
            }
        }
    }

    async fn handle(&mut self, kind: request::Type, cancel: &CancellationToken) -> response::Type {
        match kind {
            request::Type::Parse(_) => response::Type::Parse(self.parse().await),
            request::Type::Init(req) => response::Type::Init(self.init(req, cancel).await),
            request::Type::Plan(req) => response::Type::Plan(self.plan(req, cancel).await),
            request::Type::Graph(req) => response::Type::Graph(self.graph(req, cancel).await),
            request::Type::Apply(req) => response::Type::Apply(self.apply(req, cancel).await),
            // Filtered out by the caller; answered defensively with nothing.
            request::Type::Config(_) | request::Type::Cancel(_) => {
                response::Type::Parse(ParseComplete::default())
            }
        }
    }

    async fn parse(&mut self) -> ParseComplete {
        if !self.has_template {
            return ParseComplete {
                error: "no template: send an InitRequest with the template archive before Parse"
                    .to_string(),
                ..Default::default()
            };
        }
        let dir = self.dir.path().to_path_buf();
        match tokio::task::spawn_blocking(move || parse::parse_template_dir(&dir)).await {
            Ok(Ok(parsed)) => parsed.to_parse_complete(),
            Ok(Err(e)) => e.to_parse_complete(),
            Err(e) => ParseComplete {
                error: format!("parse template: {e}"),
                ..Default::default()
            },
        }
    }

    async fn init(&mut self, req: InitRequest, cancel: &CancellationToken) -> InitComplete {
        self.has_template = false;
        self.initialized = false;
        self.plan = None;
        if cancel.is_cancelled() {
            return InitComplete {
                error: "initialize terraform: canceled".to_string(),
                ..Default::default()
            };
        }
        // A fresh directory for each Init, so nothing from an earlier one (files, links
        // Terraform made under .terraform/) can be reached through the new archive.
        let dir = self.dir.path().to_path_buf();
        let archive = req.template_source_archive;
        let unpacked = tokio::task::spawn_blocking(move || -> Result<usize, String> {
            clear_dir(&dir).map_err(|e| format!("clean work directory: {e}"))?;
            extract_archive(&archive, &dir)
                .map(|files| files.len())
                .map_err(|e| e.to_string())
        })
        .await;
        match unpacked {
            Ok(Ok(count)) => {
                tracing::debug!(files = count, "template archive unpacked");
                self.has_template = true;
            }
            Ok(Err(e)) => {
                return InitComplete {
                    error: format!("unpack template: {e}"),
                    ..Default::default()
                }
            }
            Err(e) => {
                return InitComplete {
                    error: format!("unpack template: {e}"),
                    ..Default::default()
                }
            }
        }
        let (result, timings) = self.executor.init(&self.sink, cancel).await;
        let modules = self.executor.modules();
        self.initialized = result.is_ok();
        if let Err(e) = result {
            return InitComplete {
                error: e.to_string(),
                timings,
                modules,
                ..Default::default()
            };
        }
        // A workspace build does not need them; a template import stores them so the
        // control plane can read the template's modules without fetching them again.
        let (module_files, module_files_hash) = if req.omit_module_files {
            (Vec::new(), Vec::new())
        } else {
            self.module_files().await
        };
        InitComplete {
            error: String::new(),
            timings,
            modules,
            module_files,
            module_files_hash,
        }
    }

    /// The archive of the modules `init` fetched, and its SHA-256 (both empty when there is
    /// none). A failure to archive costs the template some function, not the build: it is
    /// logged, as upstream does.
    async fn module_files(&self) -> (Vec<u8>, Vec<u8>) {
        let dir = self.dir.path().to_path_buf();
        let archived = tokio::task::spawn_blocking(move || {
            archive_module_files(&dir, MAX_MODULE_ARCHIVE_SIZE).map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        match archived {
            Ok(files) => {
                if !files.skipped.is_empty() {
                    self.sink.log(
                        LogLevel::Warn,
                        &format!(
                            "some terraform modules were not archived, the template will have \
                             reduced function: {}",
                            files.skipped.join(", ")
                        ),
                    );
                }
                let hash = files.hash();
                (files.tar, hash)
            }
            Err(e) => {
                tracing::error!(error = %e, "failed to archive modules");
                self.sink.log(
                    LogLevel::Warn,
                    &format!("terraform modules were not archived: {e}"),
                );
                (Vec::new(), Vec::new())
            }
        }
    }

    async fn plan(&mut self, req: PlanRequest, cancel: &CancellationToken) -> PlanComplete {
        self.plan = None;
        if !self.initialized {
            return PlanComplete {
                error: "cannot plan before a successful init".to_string(),
                ..Default::default()
            };
        }
        if let Err(error) = checked_state("PlanRequest", &req.state) {
            return PlanComplete {
                error,
                ..Default::default()
            };
        }
        self.secrets.add_plan_inputs(
            self.dir.path(),
            &req.variable_values,
            &req.rich_parameter_values,
            &req.previous_parameter_values,
        );
        for p in &req.external_auth_providers {
            self.secrets.add(&p.access_token);
        }
        self.secrets.add_metadata(req.metadata.as_ref());
        self.secrets.add_state(&req.state);

        let transition = req
            .metadata
            .as_ref()
            .map(|m| m.workspace_transition())
            .unwrap_or(WorkspaceTransition::Start);
        let destroy = transition == WorkspaceTransition::Destroy;
        let state_file = self.dir.path().join(crate::terraform::STATE_FILE);
        if destroy && req.state.is_empty() && !state_file.exists() {
            self.sink.log(LogLevel::Info, NOTHING_TO_PLAN);
            self.plan = Some(CachedPlan {
                json: Vec::new(),
                nothing_to_do: true,
            });
            return PlanComplete::default();
        }
        if !req.state.is_empty() {
            if let Err(e) = self.executor.write_state(&req.state) {
                return PlanComplete {
                    error: e.to_string(),
                    ..Default::default()
                };
            }
        }
        self.executor.log_terraform_vars(&self.sink);
        let env = build_env(
            self.executor.base_env(),
            &BuildInputs {
                metadata: req.metadata.as_ref(),
                rich_parameter_values: &req.rich_parameter_values,
                previous_parameter_values: &req.previous_parameter_values,
                external_auth_providers: &req.external_auth_providers,
                terraform_log: self.terraform_log,
            },
        );
        let (result, timings) = self
            .executor
            .plan(env, &req.variable_values, destroy, &self.sink, cancel)
            .await;
        if let Err(e) = result {
            return PlanComplete {
                error: e.to_string(),
                timings,
                ..Default::default()
            };
        }
        let json = match self.executor.show_plan(cancel).await {
            Ok(json) => json,
            Err(e) => {
                return PlanComplete {
                    error: e.to_string(),
                    timings,
                    ..Default::default()
                }
            }
        };
        let summary = summarize_plan(&json);
        let claim = req
            .metadata
            .as_ref()
            .map(|m| m.prebuilt_workspace_build_stage())
            == Some(PrebuiltWorkspaceBuildStage::Claim);
        if claim && !destroy && !summary.replacements.is_empty() {
            // Replacing resources when a prebuilt workspace is claimed throws away what was
            // prebuilt; show the admin which attributes force it.
            self.executor.log_plan_text(&self.sink, cancel).await;
        }
        self.plan = Some(CachedPlan {
            json: json.clone(),
            nothing_to_do: false,
        });
        PlanComplete {
            error: String::new(),
            timings,
            plan: json,
            daily_cost: summary.daily_cost,
            resource_replacements: summary.replacements,
            ai_task_count: summary.ai_task_count,
        }
    }

    async fn graph(&mut self, req: GraphRequest, cancel: &CancellationToken) -> GraphComplete {
        let fail = |error: String| GraphComplete {
            error,
            ..Default::default()
        };
        let started = SystemTime::now();
        let modules: Vec<TfModule> = match req.source() {
            GraphSource::SourcePlan => {
                let Some(plan) = &self.plan else {
                    return fail("cannot graph the plan before a successful plan".to_string());
                };
                if plan.nothing_to_do {
                    return GraphComplete::default();
                }
                match TfPlan::modules_from_json(&plan.json) {
                    Ok(modules) => modules,
                    Err(e) => return fail(format!("decode terraform plan: {e}")),
                }
            }
            GraphSource::SourceState => {
                if !self.initialized {
                    return fail("cannot graph the state before a successful init".to_string());
                }
                match self.state_modules(cancel).await {
                    Ok(m) => m,
                    Err(e) => return fail(e),
                }
            }
            GraphSource::SourceUnknown => {
                return fail("graph source must be SOURCE_PLAN or SOURCE_STATE".to_string())
            }
        };
        let converted = self.convert(&modules, cancel).await;
        let timings = vec![stage_timing(
            "graph",
            started,
            SystemTime::now(),
            converted.is_ok(),
        )];
        match converted {
            Ok(c) => GraphComplete {
                error: String::new(),
                timings,
                resources: c.resources,
                parameters: c.parameters,
                external_auth_providers: c.external_auth_providers,
                presets: c.presets,
                has_ai_tasks: c.has_ai_tasks,
                ai_tasks: c.ai_tasks,
                has_external_agents: c.has_external_agents,
            },
            Err(error) => GraphComplete {
                error,
                timings,
                ..Default::default()
            },
        }
    }

    async fn state_modules(&self, cancel: &CancellationToken) -> Result<Vec<TfModule>, String> {
        let json = self
            .executor
            .show_state(cancel)
            .await
            .map_err(|e| e.to_string())?;
        TfState::modules_from_json(&json).map_err(|e| format!("decode terraform state: {e}"))
    }

    /// `terraform graph` plus conversion of `modules`.
    async fn convert(
        &self,
        modules: &[TfModule],
        cancel: &CancellationToken,
    ) -> Result<ConvertedState, String> {
        let dot = self
            .executor
            .graph(cancel)
            .await
            .map_err(|e| e.to_string())?;
        let converted = convert::convert_state(modules, &dot).map_err(|e| e.to_string())?;
        for warning in &converted.warnings {
            self.sink.log(LogLevel::Warn, warning);
        }
        Ok(converted)
    }

    async fn apply(&mut self, req: ApplyRequest, cancel: &CancellationToken) -> ApplyComplete {
        // Checked before the plan is used up, so the build can be retried with a good state.
        // The state answered is the one the plan was made with: the caller must not replace
        // what it has with nothing.
        if let Err(error) = checked_state("ApplyRequest", &req.state) {
            return ApplyComplete {
                state: self.executor.read_state(),
                error,
                ..Default::default()
            };
        }
        let Some(plan) = self.plan.take() else {
            return ApplyComplete {
                error: "cannot apply before successful plan".to_string(),
                ..Default::default()
            };
        };
        if plan.nothing_to_do {
            self.sink.log(LogLevel::Info, NOTHING_TO_APPLY);
            return ApplyComplete::default();
        }
        self.secrets.add_metadata(req.metadata.as_ref());
        self.secrets.add_state(&req.state);
        // The plan was made against the state the Plan request carried; a different one
        // here makes Terraform reject the plan as stale, which is the right answer.
        if !req.state.is_empty() && req.state != self.executor.read_state() {
            if let Err(e) = self.executor.write_state(&req.state) {
                return ApplyComplete {
                    error: e.to_string(),
                    ..Default::default()
                };
            }
        }
        self.executor.log_terraform_vars(&self.sink);
        let env = build_env(
            self.executor.base_env(),
            &BuildInputs {
                metadata: req.metadata.as_ref(),
                terraform_log: self.terraform_log,
                ..Default::default()
            },
        );
        let (result, mut timings) = self.executor.apply(env, &self.sink, cancel).await;
        // Whatever Terraform managed to do is in the state file, also when it failed or
        // was interrupted: the caller must keep it, or the resources leak.
        let state = self.executor.read_state();
        self.secrets.add_state(&state);
        if let Err(e) = result {
            return ApplyComplete {
                state,
                error: e.to_string(),
                timings,
                ..Default::default()
            };
        }
        // The apply is done; reading back what it did should not be cut short by a cancel
        // that came too late to stop anything.
        let reading = CancellationToken::new();
        let started = SystemTime::now();
        let converted = match self.state_modules(&reading).await {
            Ok(modules) => self.convert(&modules, &reading).await,
            Err(e) => Err(e),
        };
        timings.push(stage_timing(
            "graph",
            started,
            SystemTime::now(),
            converted.is_ok(),
        ));
        match converted {
            Ok(c) => ApplyComplete {
                state,
                error: String::new(),
                resources: c.resources,
                parameters: c.parameters,
                external_auth_providers: c.external_auth_providers,
                timings,
                ai_tasks: c.ai_tasks,
            },
            Err(error) => ApplyComplete {
                state,
                error,
                timings,
                ..Default::default()
            },
        }
    }
}

/// Checks a request's state before it reaches the work directory and Terraform. Empty means
/// no state. The error names the request field and says what is wrong.
fn checked_state(request: &str, state: &[u8]) -> Result<(), String> {
    if state.is_empty() {
        return Ok(());
    }
    check_state(state).map_err(|e| {
        format!("{request}.state is not a state Terraform can read, so Terraform was not run: {e}")
    })
}

/// When the InitComplete is larger than upstream's transport carries, its module files go
/// ahead of it as a `DataUpload` and `ChunkPiece`s (upstream's order: the upload, then the
/// pieces by index, then the Complete with `module_files` empty and `module_files_hash` set
/// to the SHA-256 of the whole payload, which the control plane checks after reassembly).
/// Returns those messages, in order; nothing when the Complete fits.
fn module_files_upload(init: &mut InitComplete) -> Vec<Response> {
    // The size of `Response{init}`: the Complete as field 3 of the response.
    let encoded = prost::encoding::message::encoded_len(3, init);
    if encoded <= MAX_INLINE_RESPONSE || init.module_files.is_empty() {
        return Vec::new();
    }
    let data = std::mem::take(&mut init.module_files);
    let hash = sha2::Sha256::digest(&data).to_vec();
    init.module_files_hash = hash.clone();
    let pieces: Vec<&[u8]> = data.chunks(UPLOAD_CHUNK_SIZE).collect();
    tracing::info!(
        bytes = data.len(),
        pieces = pieces.len(),
        "init response too large; sending module files as an upload"
    );
    let mut out = Vec::with_capacity(pieces.len() + 1);
    out.push(Response {
        r#type: Some(response::Type::DataUpload(DataUpload {
            upload_type: DataUploadType::UploadTypeModuleFiles.into(),
            data_hash: hash.clone(),
            file_size: i64::try_from(data.len()).unwrap_or(i64::MAX),
            chunks: i32::try_from(pieces.len()).unwrap_or(i32::MAX),
        })),
    });
    for (index, piece) in pieces.into_iter().enumerate() {
        out.push(Response {
            r#type: Some(response::Type::ChunkPiece(ChunkPiece {
                data: piece.to_vec(),
                full_data_hash: hash.clone(),
                piece_index: i32::try_from(index).unwrap_or(i32::MAX),
            })),
        });
    }
    out
}

/// The `error` of a *Complete; `None` when it is empty (or the message is not a Complete).
fn complete_error_mut(complete: &mut response::Type) -> Option<&mut String> {
    match complete {
        response::Type::Parse(c) => Some(&mut c.error),
        response::Type::Init(c) => Some(&mut c.error),
        response::Type::Plan(c) => Some(&mut c.error),
        response::Type::Graph(c) => Some(&mut c.error),
        response::Type::Apply(c) => Some(&mut c.error),
        _ => None,
    }
}

pub fn complete_error(complete: &response::Type) -> Option<&str> {
    let error = match complete {
        response::Type::Parse(c) => &c.error,
        response::Type::Init(c) => &c.error,
        response::Type::Plan(c) => &c.error,
        response::Type::Graph(c) => &c.error,
        response::Type::Apply(c) => &c.error,
        _ => return None,
    };
    (!error.is_empty()).then_some(error.as_str())
}

/// What a plan's JSON tells the control plane directly.
#[derive(Debug, Default, PartialEq)]
struct PlanSummary {
    daily_cost: i32,
    ai_task_count: i32,
    replacements: Vec<ResourceReplacement>,
}

fn summarize_plan(json: &[u8]) -> PlanSummary {
    #[derive(serde::Deserialize, Default)]
    struct Changes {
        #[serde(default)]
        resource_changes: Vec<Change>,
    }
    #[derive(serde::Deserialize)]
    struct Change {
        #[serde(default)]
        address: String,
        #[serde(default)]
        change: ChangeBody,
    }
    #[derive(serde::Deserialize, Default)]
    struct ChangeBody {
        #[serde(default)]
        actions: Vec<String>,
        #[serde(default)]
        replace_paths: Vec<Vec<serde_json::Value>>,
    }

    let mut summary = PlanSummary::default();
    if let Ok(plan) = serde_json::from_slice::<TfPlan>(json) {
        let mut stack: Vec<TfModule> = plan
            .planned_values
            .and_then(|v| v.root_module)
            .into_iter()
            .collect();
        while let Some(module) = stack.pop() {
            for r in &module.resources {
                match r.r#type.as_str() {
                    // Cost is declared on coder_metadata; each one belongs to one resource.
                    "coder_metadata" => {
                        let cost = r.values.get("daily_cost").and_then(|c| c.as_i64());
                        let cost = cost.and_then(|c| i32::try_from(c).ok()).unwrap_or(0);
                        summary.daily_cost = summary.daily_cost.saturating_add(cost);
                    }
                    "coder_ai_task" => summary.ai_task_count += 1,
                    _ => {}
                }
            }
            stack.extend(module.child_modules);
        }
    }
    if let Ok(changes) = serde_json::from_slice::<Changes>(json) {
        for c in changes.resource_changes {
            let replaced = c.change.actions.iter().any(|a| a == "delete")
                && c.change.actions.iter().any(|a| a == "create");
            if !replaced || c.change.replace_paths.is_empty() {
                continue;
            }
            summary.replacements.push(ResourceReplacement {
                resource: c.address,
                paths: c
                    .change
                    .replace_paths
                    .iter()
                    .map(|p| format_attribute_path(p))
                    .collect(),
            });
        }
    }
    summary
}

/// `["env", 0]` → `env[0]`, `["labels", "a"]` → `labels.a`.
fn format_attribute_path(steps: &[serde_json::Value]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            serde_json::Value::Number(n) => out.push_str(&format!("[{n}]")),
            serde_json::Value::String(s) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(s);
            }
            other => out.push_str(&format!("[{other}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_module_files_stay_in_the_complete() {
        let mut init = InitComplete {
            module_files: vec![1; 1024],
            module_files_hash: sha2::Sha256::digest([1u8; 1024]).to_vec(),
            ..Default::default()
        };
        let before = init.clone();
        assert!(module_files_upload(&mut init).is_empty());
        assert_eq!(init, before);
    }

    #[test]
    fn large_module_files_go_ahead_in_pieces() {
        let data: Vec<u8> = (0..(5 << 20) + 7).map(|i: usize| (i % 251) as u8).collect();
        let hash = sha2::Sha256::digest(&data).to_vec();
        let mut init = InitComplete {
            module_files: data.clone(),
            module_files_hash: hash.clone(),
            ..Default::default()
        };
        let sent = module_files_upload(&mut init);
        assert!(init.module_files.is_empty());
        assert_eq!(init.module_files_hash, hash);
        let Some(response::Type::DataUpload(upload)) = &sent[0].r#type else {
            panic!("first comes the DataUpload: {:?}", sent[0].r#type);
        };
        assert_eq!(upload.upload_type(), DataUploadType::UploadTypeModuleFiles);
        assert_eq!(upload.data_hash, hash);
        assert_eq!(upload.file_size, data.len() as i64);
        assert_eq!(upload.chunks, 3);
        let mut joined = Vec::new();
        for (i, r) in sent[1..].iter().enumerate() {
            let Some(response::Type::ChunkPiece(piece)) = &r.r#type else {
                panic!("then the pieces: {:?}", r.r#type);
            };
            assert_eq!(piece.piece_index, i as i32);
            assert_eq!(piece.full_data_hash, hash);
            assert!(piece.data.len() <= UPLOAD_CHUNK_SIZE);
            joined.extend_from_slice(&piece.data);
        }
        assert_eq!(sent.len(), 4);
        assert_eq!(joined, data);
    }

    #[test]
    fn corrupt_states_are_refused_by_request_field() {
        assert_eq!(checked_state("PlanRequest", b""), Ok(()));
        assert_eq!(checked_state("PlanRequest", br#"{"version":4}"#), Ok(()));
        assert_eq!(
            checked_state("ApplyRequest", b"[]"),
            Err(
                "ApplyRequest.state is not a state Terraform can read, so Terraform was not \
                 run: its top level is an array, not an object"
                    .to_string()
            )
        );
    }

    #[test]
    fn log_levels() {
        assert_eq!(parse_log_level("debug"), LogLevel::Debug);
        assert_eq!(parse_log_level("WARN"), LogLevel::Warn);
        assert_eq!(parse_log_level(""), LogLevel::Trace);
        assert_eq!(parse_log_level("chatty"), LogLevel::Trace);
    }

    #[test]
    fn plan_summary() {
        let json = serde_json::json!({
            "planned_values": {"root_module": {
                "resources": [
                    {"address": "coder_metadata.a", "mode": "managed", "type": "coder_metadata", "name": "a", "values": {"daily_cost": 29}},
                    {"address": "coder_ai_task.t", "mode": "managed", "type": "coder_ai_task", "name": "t", "values": {}}
                ],
                "child_modules": [{"address": "module.m", "resources": [
                    {"address": "module.m.coder_metadata.b", "mode": "managed", "type": "coder_metadata", "name": "b", "values": {"daily_cost": 1}}
                ]}]
            }},
            "resource_changes": [
                {"address": "docker_container.w", "change": {"actions": ["delete", "create"], "replace_paths": [["image"], ["env", 0]]}},
                {"address": "terraform_data.x", "change": {"actions": ["update"]}}
            ]
        });
        let summary = summarize_plan(json.to_string().as_bytes());
        assert_eq!(summary.daily_cost, 30);
        assert_eq!(summary.ai_task_count, 1);
        assert_eq!(
            summary.replacements,
            vec![ResourceReplacement {
                resource: "docker_container.w".into(),
                paths: vec!["image".into(), "env[0]".into()],
            }]
        );
    }
}

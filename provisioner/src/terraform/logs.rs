//! Terraform's output → provisioner `Log` messages (coder-provisioner.md §3.7).
//!
//! `plan`, `apply` (and `init` from 1.9) run with `-json`: every stdout line is a JSON object
//! with `@level` and `@message`, and diagnostics carry a structured `diagnostic` that we
//! render the way Terraform's own text output does. stderr, and `init` output before 1.9,
//! are plain lines at a fixed level, except that Terraform's internal log (`TF_LOG=JSON`)
//! also lands on stderr as JSON lines.

use coder_proto::provisioner::LogLevel;
use serde::Deserialize;

/// Where log lines go: a session's response stream, the CLI's terminal, a test's buffer.
pub trait LogSink: Send + Sync {
    fn log(&self, level: LogLevel, output: &str);

    /// Sees each parsed line of Terraform's `-json` output before its text is logged (the
    /// session's redaction learns from hooks which resources an apply creates, see
    /// [`crate::secrets`]).
    fn observe(&self, _line: &JsonLogLine) {}
}

/// Maps Terraform's `@level` (any case) to ours; `None` for a level we do not know.
pub fn map_level(level: &str) -> Option<LogLevel> {
    match level.to_ascii_lowercase().as_str() {
        "trace" => Some(LogLevel::Trace),
        "debug" => Some(LogLevel::Debug),
        "info" => Some(LogLevel::Info),
        "warn" | "warning" => Some(LogLevel::Warn),
        "error" => Some(LogLevel::Error),
        _ => None,
    }
}

/// One line of `terraform … -json` output; fields we do not use are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct JsonLogLine {
    #[serde(rename = "@level", default)]
    pub level: String,
    #[serde(rename = "@message", default)]
    pub message: String,
    #[serde(rename = "@timestamp", default)]
    pub timestamp: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub hook: Option<Hook>,
    #[serde(default)]
    pub diagnostic: Option<JsonDiagnostic>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Hook {
    #[serde(default)]
    pub resource: Option<HookResource>,
    #[serde(default)]
    pub action: Option<String>,
    /// The resource's id, on `apply_complete` and `refresh_*` hooks.
    #[serde(default)]
    pub id_value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HookResource {
    #[serde(default)]
    pub addr: String,
    #[serde(default)]
    pub implied_provider: String,
    #[serde(default)]
    pub resource_type: String,
}

/// Terraform's machine-readable diagnostic.
#[derive(Debug, Default, Deserialize)]
pub struct JsonDiagnostic {
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub range: Option<DiagRange>,
    #[serde(default)]
    pub snippet: Option<DiagSnippet>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DiagRange {
    #[serde(default)]
    pub filename: String,
    #[serde(default)]
    pub start: DiagPos,
}

#[derive(Debug, Default, Deserialize)]
pub struct DiagPos {
    #[serde(default)]
    pub line: u64,
}

#[derive(Debug, Default, Deserialize)]
pub struct DiagSnippet {
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub start_line: u64,
    #[serde(default)]
    pub values: Vec<SnippetValue>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SnippetValue {
    #[serde(default)]
    pub traversal: String,
    #[serde(default)]
    pub statement: String,
}

/// The text lines of a diagnostic below its summary, as Terraform prints them: where it is
/// (`on main.tf line 3, in resource "x" "y":`), the source lines, the values involved, a
/// blank line, then the detail.
pub fn format_diagnostic(diag: &JsonDiagnostic) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(range) = &diag.range {
        match &diag.snippet {
            Some(snippet) => {
                let context = match snippet.context.as_deref() {
                    Some(c) if !c.is_empty() => format!(", in {c}"),
                    _ => String::new(),
                };
                lines.push(format!(
                    "on {} line {}{context}:",
                    range.filename, range.start.line
                ));
                for (i, code) in snippet.code.split('\n').enumerate() {
                    lines.push(format!("  {}: {code}", snippet.start_line + i as u64));
                }
                if !snippet.values.is_empty() {
                    let mut values: Vec<&SnippetValue> = snippet.values.iter().collect();
                    values.sort_by(|a, b| a.traversal.cmp(&b.traversal));
                    lines.push("    ├────────────────".to_string());
                    for v in values {
                        lines.push(format!("    │ {} {}", v.traversal, v.statement));
                    }
                }
            }
            None => {
                lines.push(format!("on {} line {}:", range.filename, range.start.line));
                lines.push("  (source code not available)".to_string());
            }
        }
        lines.push(String::new());
    }
    if !diag.detail.is_empty() {
        lines.extend(diag.detail.split('\n').map(str::to_string));
    }
    lines
}

/// Handles one stdout line of a `-json` command: logs it and returns the parsed line (for
/// timing collection) when it was JSON.
pub fn handle_json_line(line: &str, sink: &dyn LogSink) -> Option<JsonLogLine> {
    let trimmed = line.trim_end_matches(['\r', '\n']);
    if trimmed.trim().is_empty() {
        return None;
    }
    let parsed: JsonLogLine = match serde_json::from_str(trimmed) {
        Ok(p) => p,
        // Terraform prints some things without JSON even under -json (state lock notices).
        Err(_) => {
            sink.log(LogLevel::Info, trimmed);
            return None;
        }
    };
    sink.observe(&parsed);
    let level = match map_level(&parsed.level) {
        Some(level) => level,
        None => {
            sink.log(
                LogLevel::Warn,
                &format!("unable to convert log level {}", parsed.level),
            );
            LogLevel::Info
        }
    };
    sink.log(level, &parsed.message);
    if let Some(diag) = &parsed.diagnostic {
        let diag_level = map_level(&diag.severity).unwrap_or(level);
        for text in format_diagnostic(diag) {
            sink.log(diag_level, &text);
        }
    }
    Some(parsed)
}

/// Handles one line of plain output (stderr; `init` stdout before 1.9) at `level`. Lines of
/// Terraform's own JSON log (`TF_LOG=JSON`) keep their level, except that trace entries are
/// dropped and info ones demoted to debug: they are Terraform's internals, not the build's
/// story.
pub fn handle_plain_line(line: &str, level: LogLevel, sink: &dyn LogSink) {
    let trimmed = line.trim_end_matches(['\r', '\n']);
    if trimmed.trim().is_empty() {
        return;
    }
    if trimmed.starts_with('{') {
        if let Ok(parsed) = serde_json::from_str::<JsonLogLine>(trimmed) {
            let entry_level = match map_level(&parsed.level) {
                Some(LogLevel::Trace) => return,
                Some(LogLevel::Info) => LogLevel::Debug,
                Some(other) => other,
                None => LogLevel::Debug,
            };
            sink.log(entry_level, &parsed.message);
            return;
        }
    }
    sink.log(level, trimmed);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Collects logs for assertions.
    #[derive(Default)]
    pub struct Recorder(pub Mutex<Vec<(LogLevel, String)>>);

    impl LogSink for Recorder {
        fn log(&self, level: LogLevel, output: &str) {
            if let Ok(mut logs) = self.0.lock() {
                logs.push((level, output.to_string()));
            }
        }
    }

    impl Recorder {
        pub fn lines(&self) -> Vec<(LogLevel, String)> {
            self.0.lock().map(|l| l.clone()).unwrap_or_default()
        }
    }

    #[test]
    fn diagnostic_with_context_snippet() {
        // Upstream's diagnostic_test, first case.
        let diag: JsonDiagnostic = serde_json::from_value(serde_json::json!({
            "severity": "error",
            "summary": "Unsupported attribute",
            "detail": "This object has no argument, nested block, or exported attribute named \"foobar\".",
            "range": {"filename": "main.tf", "start": {"line": 230, "column": 81, "byte": 5968},
                      "end": {"line": 230, "column": 88, "byte": 5975}},
            "snippet": {
                "context": "resource \"docker_container\" \"workspace\"",
                "code": "  name = \"coder-${data.coder_workspace.me.owner}-${lower(data.coder_workspace.me.foobar)}\"",
                "start_line": 230, "highlight_start_offset": 80, "highlight_end_offset": 87,
                "values": []
            }
        }))
        .expect("diagnostic");
        assert_eq!(
            format_diagnostic(&diag),
            vec![
                "on main.tf line 230, in resource \"docker_container\" \"workspace\":".to_string(),
                "  230:   name = \"coder-${data.coder_workspace.me.owner}-${lower(data.coder_workspace.me.foobar)}\"".to_string(),
                String::new(),
                "This object has no argument, nested block, or exported attribute named \"foobar\".".to_string(),
            ]
        );
    }

    #[test]
    fn diagnostic_with_values() {
        // Upstream's diagnostic_test, second case.
        let diag: JsonDiagnostic = serde_json::from_value(serde_json::json!({
            "severity": "error",
            "summary": "Invalid value for variable",
            "detail": "Invalid Digital Ocean Project ID.\n\nThis was checked by the validation rule at main.tf:27,3-13.",
            "range": {"filename": "main.tf", "start": {"line": 18, "column": 1, "byte": 277},
                      "end": {"line": 18, "column": 31, "byte": 307}},
            "snippet": {
                "context": null,
                "code": "variable \"step1_do_project_id\" {",
                "start_line": 18, "highlight_start_offset": 0, "highlight_end_offset": 30,
                "values": [{"traversal": "var.step1_do_project_id", "statement": "is \"magic-project-id\""}]
            }
        }))
        .expect("diagnostic");
        assert_eq!(
            format_diagnostic(&diag),
            vec![
                "on main.tf line 18:",
                "  18: variable \"step1_do_project_id\" {",
                "    ├────────────────",
                "    │ var.step1_do_project_id is \"magic-project-id\"",
                "",
                "Invalid Digital Ocean Project ID.",
                "",
                "This was checked by the validation rule at main.tf:27,3-13.",
            ]
        );
    }

    #[test]
    fn diagnostic_without_snippet_or_range() {
        let diag = JsonDiagnostic {
            detail: "only detail".into(),
            range: Some(DiagRange {
                filename: "a.tf".into(),
                start: DiagPos { line: 3 },
            }),
            ..Default::default()
        };
        assert_eq!(
            format_diagnostic(&diag),
            vec![
                "on a.tf line 3:",
                "  (source code not available)",
                "",
                "only detail"
            ]
        );
        let diag = JsonDiagnostic {
            detail: "only detail".into(),
            ..Default::default()
        };
        assert_eq!(format_diagnostic(&diag), vec!["only detail"]);
    }

    #[test]
    fn json_lines_keep_their_level_and_add_diagnostics() {
        let rec = Recorder::default();
        handle_json_line(
            r#"{"@level":"error","@message":"Error: No value for required variable","type":"diagnostic","diagnostic":{"severity":"error","summary":"No value for required variable","detail":"The root module input variable \"A\" is not set."}}"#,
            &rec,
        );
        handle_json_line(r#"{"@level":"WARNING","@message":"careful"}"#, &rec);
        handle_json_line(r#"{"@level":"loud","@message":"what"}"#, &rec);
        handle_json_line("Acquiring state lock. This may take a few moments...", &rec);
        handle_json_line("   ", &rec);
        assert_eq!(
            rec.lines(),
            vec![
                (
                    LogLevel::Error,
                    "Error: No value for required variable".to_string()
                ),
                (
                    LogLevel::Error,
                    "The root module input variable \"A\" is not set.".to_string()
                ),
                (LogLevel::Warn, "careful".to_string()),
                (
                    LogLevel::Warn,
                    "unable to convert log level loud".to_string()
                ),
                (LogLevel::Info, "what".to_string()),
                (
                    LogLevel::Info,
                    "Acquiring state lock. This may take a few moments...".to_string()
                ),
            ]
        );
    }

    /// Records observed hooks and logged text in one sequence.
    #[derive(Default)]
    struct Observer(Mutex<Vec<String>>);

    impl LogSink for Observer {
        fn log(&self, _level: LogLevel, output: &str) {
            if let Ok(mut seen) = self.0.lock() {
                seen.push(format!("log {output}"));
            }
        }
        fn observe(&self, line: &JsonLogLine) {
            if let (Ok(mut seen), Some(hook)) = (self.0.lock(), &line.hook) {
                let resource = hook.resource.as_ref();
                seen.push(format!(
                    "observe {} {} {} {}",
                    line.kind,
                    resource.map_or("", |r| r.resource_type.as_str()),
                    hook.action.as_deref().unwrap_or_default(),
                    hook.id_value.as_deref().unwrap_or_default()
                ));
            }
        }
    }

    #[test]
    fn hooks_are_observed_before_their_line_is_logged() {
        let sink = Observer::default();
        handle_json_line(
            r#"{"@level":"info","@message":"coder_agent.main: Creation complete after 0s [id=a1]","type":"apply_complete","hook":{"resource":{"addr":"coder_agent.main","resource_type":"coder_agent"},"action":"create","id_key":"id","id_value":"a1"}}"#,
            &sink,
        );
        assert_eq!(
            *sink.0.lock().expect("lock"),
            vec![
                "observe apply_complete coder_agent create a1".to_string(),
                "log coder_agent.main: Creation complete after 0s [id=a1]".to_string(),
            ]
        );
    }

    #[test]
    fn plain_lines_use_the_writer_level_and_filter_terraform_internals() {
        let rec = Recorder::default();
        for line in ["one", "", "two\n", "three", "four"] {
            handle_plain_line(line, LogLevel::Error, &rec);
        }
        handle_plain_line(
            r#"{"@level":"trace","@message":"noise"}"#,
            LogLevel::Error,
            &rec,
        );
        handle_plain_line(
            r#"{"@level":"info","@message":"internal"}"#,
            LogLevel::Error,
            &rec,
        );
        handle_plain_line(
            r#"{"@level":"warn","@message":"hmm"}"#,
            LogLevel::Error,
            &rec,
        );
        assert_eq!(
            rec.lines(),
            vec![
                (LogLevel::Error, "one".to_string()),
                (LogLevel::Error, "two".to_string()),
                (LogLevel::Error, "three".to_string()),
                (LogLevel::Error, "four".to_string()),
                (LogLevel::Debug, "internal".to_string()),
                (LogLevel::Warn, "hmm".to_string()),
            ]
        );
    }
}

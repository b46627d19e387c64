//! The report, rendered: human text by default, JSON for CI (`--json`).
//!
//! Findings read like compiler output (`main.tf:12: error: … [check]`), so editors and CI
//! log viewers link them; the tables (variables, parameters, agents, the persistent/ephemeral
//! split, the dry run) come first, the findings and a one-line result last.

use std::fmt::Write as _;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::dry_run::DryRunStatus;
use super::{Report, Severity};
use crate::parse::SourcePos;

/// Flattens an optional position into `file` and `line` keys (absent without a position).
pub fn serialize_pos<S: Serializer>(pos: &Option<SourcePos>, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    if let Some(pos) = pos {
        map.serialize_entry("file", &pos.filename)?;
        map.serialize_entry("line", &pos.line)?;
    }
    map.end()
}

/// The JSON document of `--json`: the report plus counts and the exit code it implies.
pub fn to_json(report: &Report) -> serde_json::Value {
    #[derive(Serialize)]
    struct Summary {
        errors: usize,
        warnings: usize,
        infos: usize,
    }
    #[derive(Serialize)]
    struct Document<'a> {
        ok: bool,
        summary: Summary,
        #[serde(flatten)]
        report: &'a Report,
    }
    let document = Document {
        ok: !report.has_errors(),
        summary: Summary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            infos: report.count(Severity::Info),
        },
        report,
    };
    serde_json::to_value(&document).unwrap_or_else(
        |e| serde_json::json!({ "ok": false, "error": format!("cannot encode the report: {e}") }),
    )
}

/// Left-aligned columns, two spaces apart, indented by two.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut line = |cells: Vec<&str>| {
        let mut text = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text.to_string()
    }
}

fn pos_text(pos: &Option<SourcePos>) -> String {
    pos.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// The human report.
pub fn to_text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Template {}\n", report.template);

    if report.variables.is_empty() {
        out.push_str("Variables: none\n\n");
    } else {
        let note = if report.managed_variables {
            " (feature_use_managed_variables: all admin)"
        } else {
            " (sensitive = admin, set when the template is pushed; others = user, set per workspace)"
        };
        let _ = writeln!(out, "Variables{note}");
        let rows: Vec<Vec<String>> = report
            .variables
            .iter()
            .map(|v| {
                let default = match (&v.default, v.sensitive) {
                    (None, _) => "(required)".to_string(),
                    (Some(_), true) => "(sensitive)".to_string(),
                    (Some(d), false) => format!("{d:?}"),
                };
                vec![
                    v.name.clone(),
                    v.scope.to_string(),
                    or_dash(&v.type_expr),
                    default,
                ]
            })
            .collect();
        table(&mut out, &["NAME", "SCOPE", "TYPE", "DEFAULT"], &rows);
        out.push('\n');
    }

    if !report.parameters.is_empty() {
        out.push_str("Parameters (coder_parameter: user, set per workspace)\n");
        let rows: Vec<Vec<String>> = report
            .parameters
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.ty.clone(),
                    p.default
                        .as_ref()
                        .map_or("(required)".to_string(), |d| format!("{d:?}")),
                    if p.mutable { "yes" } else { "no" }.to_string(),
                    p.options.to_string(),
                    pos_text(&p.pos),
                ]
            })
            .collect();
        table(
            &mut out,
            &["NAME", "TYPE", "DEFAULT", "MUTABLE", "OPTIONS", "AT"],
            &rows,
        );
        out.push('\n');
    }

    if !report.agents.is_empty() {
        out.push_str("Agents\n");
        let rows: Vec<Vec<String>> = report
            .agents
            .iter()
            .map(|a| {
                let token = if a.receives_token.is_empty() && a.auth != "token" {
                    "(not needed)".to_string()
                } else {
                    or_dash(&a.receives_token.join(", "))
                };
                vec![
                    a.name.clone(),
                    a.auth.clone(),
                    or_dash(&a.runs_init_script.join(", ")),
                    token,
                    pos_text(&a.pos),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "AGENT",
                "AUTH",
                "INIT SCRIPT RUN BY",
                "TOKEN PASSED TO",
                "AT",
            ],
            &rows,
        );
        out.push('\n');
    }

    if !report.resources.is_empty() {
        out.push_str("Persistent vs. ephemeral resources (what a workspace stop does)\n");
        let planned = report.resources.iter().any(|r| r.planned_on_stop.is_some());
        let rows: Vec<Vec<String>> = report
            .resources
            .iter()
            .map(|r| {
                let mut row = vec![r.address.clone(), r.on_stop.as_str().to_string()];
                if planned {
                    row.push(r.planned_on_stop.unwrap_or("-").to_string());
                }
                row.push(r.reason.clone());
                row.push(pos_text(&r.pos));
                row
            })
            .collect();
        let header: &[&str] = if planned {
            &["RESOURCE", "ON STOP", "PLANNED", "WHY", "AT"]
        } else {
            &["RESOURCE", "ON STOP", "WHY", "AT"]
        };
        table(&mut out, header, &rows);
        out.push('\n');
    }

    let dry = &report.dry_run;
    let terraform = dry
        .terraform
        .as_ref()
        .map(|v| format!(" (Terraform {v})"))
        .unwrap_or_default();
    match dry.status {
        DryRunStatus::NotRequested => out.push_str("Dry run: not requested (--static)\n\n"),
        DryRunStatus::Skipped => {
            let _ = writeln!(
                out,
                "Dry run{terraform}: skipped: {}\n",
                dry.reason.as_deref().unwrap_or("")
            );
        }
        DryRunStatus::Passed | DryRunStatus::Failed => {
            let status = if dry.status == DryRunStatus::Passed {
                "passed"
            } else {
                "failed"
            };
            let _ = writeln!(out, "Dry run{terraform}: {status}");
            for t in &dry.transitions {
                if let Some(error) = &t.error {
                    let _ = writeln!(out, "  {}: failed: {}", t.transition, first_line(error));
                    continue;
                }
                let _ = writeln!(out, "  {}: {} resource(s)", t.transition, t.resources.len());
                for r in &t.resources {
                    let module = if r.module_path.is_empty() {
                        String::new()
                    } else {
                        format!("{}.", r.module_path)
                    };
                    let cost = if r.daily_cost > 0 {
                        format!(" (daily cost {})", r.daily_cost)
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "    {module}{}.{}{cost}", r.ty, r.name);
                    for a in &r.agents {
                        let apps = if a.apps.is_empty() {
                            String::new()
                        } else {
                            format!(", apps: {}", a.apps.join(", "))
                        };
                        let _ = writeln!(
                            out,
                            "      agent {} ({}/{}, {} auth{apps})",
                            a.name, a.operating_system, a.architecture, a.auth
                        );
                    }
                }
            }
            out.push('\n');
        }
    }

    if !report.findings.is_empty() {
        out.push_str("Findings\n");
        for f in &report.findings {
            let severity = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let check = serde_json::to_value(f.check)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let location = f.pos.as_ref().map(|p| format!("{p}: ")).unwrap_or_default();
            let mut lines = f.message.lines();
            let _ = writeln!(
                out,
                "  {location}{severity}: {} [{check}]",
                lines.next().unwrap_or("")
            );
            for more in lines {
                let _ = writeln!(out, "      {more}");
            }
        }
        out.push('\n');
    }

    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let verdict = if errors > 0 { "FAILED" } else { "OK" };
    let _ = writeln!(out, "{verdict}: {errors} error(s), {warnings} warning(s)");
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check_files, GOOD};
    use super::*;

    #[test]
    fn json_carries_counts_tables_and_located_findings() {
        let report = check_files(&[
            ("main.tf", GOOD),
            ("extra.tf", "resource \"coder_app\" \"a\" {\n  agent_id = coder_agent.x.id\n  slug = \"a\"\n}\n"),
        ]);
        let json = to_json(&report);
        assert_eq!(json["ok"], false);
        assert_eq!(json["summary"]["errors"], 1);
        assert_eq!(json["agents"][0]["name"], "main");
        assert_eq!(json["agents"][0]["file"], "main.tf");
        assert_eq!(json["resources"][0]["on_stop"], "destroyed");
        assert_eq!(json["dry_run"]["status"], "not-requested");
        let finding = &json["findings"][0];
        assert_eq!(finding["severity"], "error");
        assert_eq!(finding["check"], "missing-reference");
        assert_eq!(finding["file"], "extra.tf");
        assert_eq!(finding["line"], 2);
    }

    #[test]
    fn text_has_tables_and_compiler_style_findings() {
        let report = check_files(&[
            ("main.tf", GOOD),
            ("extra.tf", "resource \"coder_app\" \"a\" {\n  agent_id = coder_agent.x.id\n  slug = \"a\"\n}\n"),
        ]);
        let text = to_text(&report);
        assert!(
            text.contains("Persistent vs. ephemeral resources"),
            "{text}"
        );
        assert!(
            text.contains("  terraform_data.workspace  destroyed"),
            "{text}"
        );
        assert!(
            text.contains("  extra.tf:2: error: coder_app.a.agent_id points at resource coder_agent.x, which this template does not declare [missing-reference]"),
            "{text}"
        );
        assert!(
            text.ends_with("FAILED: 1 error(s), 0 warning(s)\n"),
            "{text}"
        );
    }
}

//! Diagnostics as data (severity, summary, detail, file:line) and the one place they are
//! rendered into text.
//!
//! The rendering reproduces upstream's `formatDiagnostics` (coder-provisioner.md §2.1): one
//! block per diagnostic, `"\n<SEV>: <summary> (<file>:<line>)\n"`, the detail word-wrapped at
//! 78 columns with every line prefixed by `"> "`; the whole text trimmed and prefixed by a
//! single space (one diagnostic) or a blank line (several). Callers put their own prefix in
//! front (`load module:` …), which is why a single diagnostic reads `load module:  ERROR: …`
//! with two spaces, exactly as upstream.

use std::fmt;

/// Column at which upstream wraps diagnostic details.
const DETAIL_WRAP_COLUMNS: usize = 78;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Where a diagnostic points: a file of the template directory (relative name) and a
/// 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePos {
    pub filename: String,
    pub line: usize,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.filename, self.line)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    /// `None` when the problem has no place in a file (e.g. an unreadable directory).
    pub pos: Option<SourcePos>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            pos: None,
        }
    }

    pub fn at(mut self, filename: &str, line: usize) -> Self {
        self.pos = Some(SourcePos {
            filename: filename.to_string(),
            line,
        });
        self
    }
}

/// A list of diagnostics in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_diagnostics(&self.0))
    }
}

/// Renders diagnostics the way upstream's `formatDiagnostics` does.
pub fn format_diagnostics(diagnostics: &[Diagnostic]) -> String {
    let mut text = String::new();
    for d in diagnostics {
        let severity = match d.severity {
            Severity::Error => "ERROR",
            Severity::Warning => "WARN",
        };
        let location = d
            .pos
            .as_ref()
            .map_or_else(|| "unknown location".to_string(), ToString::to_string);
        text.push_str(&format!("\n{severity}: {} ({location})\n", d.summary));
        if !d.detail.is_empty() {
            for line in word_wrap(&d.detail, DETAIL_WRAP_COLUMNS).split('\n') {
                text.push_str("> ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    let spacer = if diagnostics.len() > 1 { "\n\n" } else { " " };
    format!("{spacer}{}", text.trim())
}

/// Greedy word wrap with the observable behaviour of `mitchellh/go-wordwrap`, which upstream
/// uses: widths count characters; a run of whitespace before a word that would overflow
/// `limit` becomes a line break; a word that is itself `limit` characters or longer is moved
/// to a fresh line only if it already overflows before reaching that length, and is never
/// split; existing newlines are kept, and whitespace that would overflow before a newline or
/// at the end is dropped. A no-break space counts as part of a word.
fn word_wrap(text: &str, limit: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / limit.max(1));
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        wrap_line(line, limit, &mut out);
    }
    out
}

fn wrap_line(line: &str, limit: usize, out: &mut String) {
    let is_break_space = |c: char| c.is_whitespace() && c != '\u{a0}';
    let mut column = 0usize;
    let mut rest = line;
    while !rest.is_empty() {
        let space_end = rest.find(|c| !is_break_space(c)).unwrap_or(rest.len());
        let (spaces, after_spaces) = rest.split_at(space_end);
        let word_end = after_spaces
            .find(is_break_space)
            .unwrap_or(after_spaces.len());
        let (word, after_word) = after_spaces.split_at(word_end);
        let space_len = spaces.chars().count();
        let word_len = word.chars().count();

        if word.is_empty() {
            // Trailing whitespace survives only if it fits.
            if column + space_len <= limit {
                out.push_str(spaces);
            }
        } else if column + space_len + word_len.min(limit.saturating_sub(1)) > limit {
            out.push('\n');
            out.push_str(word);
            column = word_len;
        } else {
            out.push_str(spaces);
            out.push_str(word);
            column += space_len + word_len;
        }
        rest = after_word;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn semicolon_diag() -> Diagnostic {
        Diagnostic::error(
            "Invalid character",
            "The \";\" character is not valid. Use newlines to separate arguments and blocks, \
             and commas to separate items in collection values.",
        )
        .at("main.tf", 1)
    }

    #[test]
    fn single_diagnostic_is_prefixed_by_one_space_and_detail_lines_fill_up_to_78() {
        let text = format_diagnostics(&[semicolon_diag()]);
        assert_eq!(
            text,
            " ERROR: Invalid character (main.tf:1)\n\
             > The \";\" character is not valid. Use newlines to separate arguments and blocks,\n\
             > and commas to separate items in collection values."
        );
    }

    #[test]
    fn several_diagnostics_are_prefixed_by_a_blank_line() {
        let second = Diagnostic::error("Argument or block definition required", "").at("b.tf", 7);
        let text = format_diagnostics(&[semicolon_diag(), second]);
        assert!(text.starts_with("\n\nERROR: Invalid character (main.tf:1)\n> The"));
        assert!(text.ends_with("values.\n\nERROR: Argument or block definition required (b.tf:7)"));
    }

    #[test]
    fn diagnostic_without_position_reads_unknown_location() {
        let d = Diagnostic::error("Failed to read module directory", "");
        assert_eq!(
            format_diagnostics(&[d]),
            " ERROR: Failed to read module directory (unknown location)"
        );
    }

    #[test]
    fn warnings_render_as_warn() {
        let mut d = Diagnostic::error("Deprecated", "").at("main.tf", 2);
        d.severity = Severity::Warning;
        assert_eq!(format_diagnostics(&[d]), " WARN: Deprecated (main.tf:2)");
    }

    #[test]
    fn wrap_keeps_existing_newlines_and_never_splits_long_words() {
        let long = "x".repeat(90);
        assert_eq!(
            word_wrap(&format!("a\n{long} b"), 78),
            format!("a\n{long}\nb")
        );
        assert_eq!(word_wrap(&format!("ab {long}"), 78), format!("ab\n{long}"));
    }

    #[test]
    fn wrap_counts_characters_not_bytes() {
        let text = format!("{} é", "é".repeat(77));
        assert_eq!(word_wrap(&text, 78), format!("{}\né", "é".repeat(77)));
    }
}

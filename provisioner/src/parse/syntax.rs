//! HCL native syntax (`*.tf`): parse with hcl-rs's span-keeping parser (`hcl::edit`) and
//! report syntax problems in HashiCorp's words.
//!
//! hcl-rs stops at the first error and words it its own way, while upstream's checks look for
//! HCL's texts (the parse test asserts `The ";" character is not valid.`). So before parsing we
//! run a small scanner with the token rules of HCL's lexer and report the tokens HCL always
//! rejects (`;`, `` ` ``, `'`, bitwise operators, characters outside the language, newlines in
//! quoted strings, bad UTF-8) with HCL's summaries and details and the same repetition limits.
//! The parser's own error is then mapped onto HCL's wording for the common cases.

use hcl::edit::parser;
use hcl::edit::structure::Body;

use super::diagnostics::Diagnostic;

/// A parsed `.tf` file: its text (for slicing expression source by span) and its body.
pub struct NativeFile {
    pub src: String,
    pub body: Body,
    /// Object keys that repeat an earlier key of the same object, renamed for parsing (see
    /// [`parse_allowing_repeated_keys`]); placeholder → the key's real name.
    pub renamed_keys: Vec<RenamedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenamedKey {
    pub placeholder: String,
    pub name: String,
}

/// Upper bound on re-parses for repeated object keys, so hostile input stays cheap.
const MAX_RENAMED_KEYS: usize = 256;

/// Parses one `.tf` file. Any error diagnostic means the body is unusable.
pub fn parse_native(filename: &str, bytes: &[u8]) -> Result<NativeFile, Vec<Diagnostic>> {
    // HCL skips a UTF-8 byte order mark; lines are unaffected.
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let src = match std::str::from_utf8(bytes) {
        Ok(src) => src,
        Err(err) => {
            let line = line_of(bytes, err.valid_up_to());
            return Err(vec![Diagnostic::error(
                "Invalid character encoding",
                "All input files must be UTF-8 encoded. Ensure that UTF-8 encoding is selected \
                 in your editor.",
            )
            .at(filename, line)]);
        }
    };

    let mut diagnostics = scan_invalid_tokens(filename, src);
    match parse_allowing_repeated_keys(src) {
        Ok((body, renamed_keys)) if diagnostics.is_empty() => Ok(NativeFile {
            src: src.to_string(),
            body,
            renamed_keys,
        }),
        Ok(_) => Err(diagnostics),
        Err(err) => {
            diagnostics.push(map_parse_error(filename, src, &err));
            Err(diagnostics)
        }
    }
}

/// HCL accepts an object constructor that repeats a key (the later item wins; upstream's
/// workspace-tag check depends on seeing both), hcl-rs's parser rejects it. So when the parser
/// stops at a repeated key, that key is replaced in a copy of the source by a placeholder
/// identifier of the same byte length, which keeps every span valid for the original text,
/// and the copy is parsed again.
fn parse_allowing_repeated_keys(src: &str) -> Result<(Body, Vec<RenamedKey>), parser::Error> {
    let mut text = src.to_string();
    let mut renamed = Vec::new();
    loop {
        let err = match parser::parse_body(&text) {
            Ok(body) => return Ok((body, renamed)),
            Err(err) => err,
        };
        let start = err.location().offset();
        let repeated_key = err.message().contains("redefined object key");
        let extent = key_extent(&text, start);
        let (true, Some(end), true) = (repeated_key, extent, renamed.len() < MAX_RENAMED_KEYS)
        else {
            return Err(err);
        };
        let Some(placeholder) = placeholder_ident(src, end - start, &renamed) else {
            return Err(err);
        };
        renamed.push(RenamedKey {
            placeholder: placeholder.clone(),
            name: key_name(&src[start..end]),
        });
        text.replace_range(start..end, &placeholder);
    }
}

/// Where an object key that starts at `start` ends: a name, a quoted string, or a
/// parenthesized expression on one line. Anything else is left to the parser's error.
fn key_extent(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start..)?;
    let first = rest.chars().next()?;
    let len = if first == '"' {
        let mut escaped = false;
        let close = rest.char_indices().skip(1).find(|&(_, c)| {
            let is_close = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            is_close || c == '\n'
        })?;
        (close.1 == '"').then_some(close.0 + 1)?
    } else if first == '(' {
        let mut depth = 0usize;
        let close = rest.char_indices().find(|&(_, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            depth == 0 || c == '\n' || c == '"'
        })?;
        (close.1 == ')').then_some(close.0 + 1)?
    } else if first == '_' || first.is_alphabetic() {
        let end = rest
            .find(|c: char| !(c == '_' || c == '-' || c.is_alphanumeric()))
            .unwrap_or(rest.len());
        // `a.b` or `a[0]` keys are traversals, not names.
        if rest[end..].starts_with(['.', '[']) {
            return None;
        }
        end
    } else {
        return None;
    };
    Some(start + len)
}

/// The name an object key stands for: a bare name is itself, a quoted string its value; for
/// anything else (a parenthesized expression) its source text.
fn key_name(key_source: &str) -> String {
    if !key_source.starts_with('"') {
        return key_source.to_string();
    }
    parser::parse_expr(key_source)
        .ok()
        .and_then(|expr| super::value::evaluate(&hcl::Expression::from(expr)).ok())
        .and_then(|value| value.to_cty_string().ok())
        .unwrap_or_else(|| key_source.trim_matches('"').to_string())
}

/// An identifier of exactly `len` bytes that does not occur in the source (so it cannot clash
/// with a real key) and is not in use yet; `None` when there is none to be had.
fn placeholder_ident(src: &str, len: usize, used: &[RenamedKey]) -> Option<String> {
    const START: &[u8] = b"_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    let is_free = |candidate: &str| {
        !src.contains(candidate) && used.iter().all(|r| r.placeholder != candidate)
    };
    match len {
        0 => None,
        1 => START
            .iter()
            .map(|&b| char::from(b).to_string())
            .find(|c| is_free(c)),
        _ => (0..4096u32)
            .map(|n| {
                let mut candidate = String::from("_");
                let mut rest = n;
                for _ in 1..len {
                    candidate.push(char::from(ALPHABET[(rest % 63) as usize]));
                    rest /= 63;
                }
                candidate
            })
            .find(|c| is_free(c)),
    }
}

/// 1-based line of a byte offset.
pub fn line_of(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    bytes[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// 1-based column (in characters) of a byte offset, as HCL counts them.
pub fn column_of(src: &str, offset: usize) -> usize {
    let end = floor_char_boundary(src, offset);
    let line_start = src[..end].rfind('\n').map_or(0, |i| i + 1);
    src[line_start..end].chars().count() + 1
}

fn floor_char_boundary(src: &str, offset: usize) -> usize {
    let mut end = offset.min(src.len());
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// Tokens HCL's lexer produces but no HCL grammar accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BadToken {
    BitwiseAnd,
    BitwiseOr,
    BitwiseNot,
    BitwiseXor,
    Backtick,
    Apostrophe,
    Semicolon,
    QuotedNewline,
    Invalid,
}

/// The scanner's state: HCL's lexer is a stack machine that enters template mode for quoted
/// strings and heredocs and returns to expression mode inside `${ … }` / `%{ … }`.
enum Mode {
    Expression,
    Quoted,
    Heredoc { marker: String, start_of_line: bool },
}

struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    modes: Vec<Mode>,
    /// Brace depth, and the depths at which a `}` ends a template interpolation rather than an
    /// object or block (HCL's `braces` / `retBraces`).
    braces: usize,
    interp_braces: Vec<usize>,
    found: Vec<(BadToken, usize)>,
}

fn scan_invalid_tokens(filename: &str, src: &str) -> Vec<Diagnostic> {
    let mut scanner = Scanner {
        src,
        pos: 0,
        modes: vec![Mode::Expression],
        braces: 0,
        interp_braces: Vec::new(),
        found: Vec::new(),
    };
    scanner.run();
    report(filename, src, &scanner.found)
}

impl Scanner<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn flag(&mut self, token: BadToken, at: usize) {
        self.found.push((token, at));
    }

    fn run(&mut self) {
        while self.pos < self.src.len() {
            match self.modes.last() {
                Some(Mode::Quoted) => self.quoted_step(),
                Some(Mode::Heredoc { .. }) => self.heredoc_step(),
                // The bottom of the stack is expression mode and is never popped.
                Some(Mode::Expression) | None => self.expression_step(),
            }
        }
    }

    fn enter_interpolation(&mut self, introducer_len: usize) {
        self.pos += introducer_len;
        if self.rest().starts_with('~') {
            self.pos += 1;
        }
        self.braces += 1;
        self.interp_braces.push(self.braces);
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.last_mut() {
            *start_of_line = false;
        }
        self.modes.push(Mode::Expression);
    }

    fn close_brace(&mut self, len: usize) {
        self.pos += len;
        if self.interp_braces.last() == Some(&self.braces) {
            self.interp_braces.pop();
            if self.modes.len() > 1 {
                self.modes.pop();
            }
        }
        self.braces = self.braces.saturating_sub(1);
    }

    fn expression_step(&mut self) {
        let start = self.pos;
        let rest = self.rest();
        for op in ["==", "!=", ">=", "<=", "&&", "||", "::", "...", "=>"] {
            if rest.starts_with(op) {
                self.pos += op.len();
                return;
            }
        }
        if rest.starts_with("//") || rest.starts_with('#') {
            self.pos += rest.find('\n').unwrap_or(rest.len());
            return;
        }
        if let Some(body) = rest.strip_prefix("/*") {
            self.pos += body.find("*/").map_or(rest.len(), |end| end + 4);
            return;
        }
        if rest.starts_with("~}") {
            self.close_brace(2);
            return;
        }
        if rest.starts_with("\r\n") {
            self.pos += 2;
            return;
        }
        if let Some(marker) = heredoc_introducer(rest) {
            self.pos += rest.find('\n').map_or(rest.len(), |nl| nl + 1);
            self.modes.push(Mode::Heredoc {
                marker,
                start_of_line: true,
            });
            return;
        }
        let Some(c) = self.bump() else { return };
        match c {
            ' ' | '\t' | '\n' => {}
            '"' => self.modes.push(Mode::Quoted),
            '{' => self.braces += 1,
            '}' => {
                self.pos = start;
                self.close_brace(1);
            }
            '[' | ']' | '(' | ')' | '.' | ',' | '*' | '/' | '%' | '+' | '-' | '=' | '<' | '>'
            | '!' | '?' | ':' => {}
            '&' => self.flag(BadToken::BitwiseAnd, start),
            '|' => self.flag(BadToken::BitwiseOr, start),
            '~' => self.flag(BadToken::BitwiseNot, start),
            '^' => self.flag(BadToken::BitwiseXor, start),
            '`' => self.flag(BadToken::Backtick, start),
            '\'' => self.flag(BadToken::Apostrophe, start),
            ';' => self.flag(BadToken::Semicolon, start),
            c if c.is_ascii_digit() => self.skip_number(),
            c if c == '_' || c.is_alphabetic() => {
                while let Some(c) = self.peek() {
                    if c == '_' || c == '-' || c.is_alphanumeric() {
                        self.bump();
                    } else {
                        break;
                    }
                }
            }
            _ => self.flag(BadToken::Invalid, start),
        }
    }

    fn skip_number(&mut self) {
        loop {
            let rest = self.rest().as_bytes();
            match rest {
                [b'0'..=b'9' | b'.', ..] => self.pos += 1,
                [b'e' | b'E', b'+' | b'-', b'0'..=b'9', ..] => self.pos += 3,
                [b'e' | b'E', b'0'..=b'9', ..] => self.pos += 2,
                _ => return,
            }
        }
    }

    fn quoted_step(&mut self) {
        let start = self.pos;
        let rest = self.rest();
        if rest.starts_with("$${") || rest.starts_with("%%{") {
            self.pos += 3;
        } else if rest.starts_with("${") || rest.starts_with("%{") {
            self.enter_interpolation(2);
        } else if rest.starts_with('\n') || rest.starts_with('\r') {
            let run = rest.find(|c| c != '\n' && c != '\r').unwrap_or(rest.len());
            self.pos += run;
            self.flag(BadToken::QuotedNewline, start);
        } else if let Some(escaped) = rest.strip_prefix('\\') {
            match escaped.chars().next() {
                Some(c) if c != '\n' && c != '\r' => self.pos += 1 + c.len_utf8(),
                // A backslash before a line end or the end of input escapes nothing.
                _ => {
                    self.pos += 1;
                    self.flag(BadToken::Invalid, start);
                }
            }
        } else if rest.starts_with('"') {
            self.pos += 1;
            self.modes.pop();
        } else {
            self.bump();
        }
    }

    fn heredoc_step(&mut self) {
        // `src` outlives `self`, so the literal below can be read while the mode is updated.
        let src = self.src;
        let rest = &src[self.pos..];
        if rest.starts_with("${") || rest.starts_with("%{") {
            self.enter_interpolation(2);
            return;
        }
        // A literal run: up to the next interpolation or the end of the line.
        let mut end = 0;
        let bytes = rest.as_bytes();
        while end < bytes.len() && bytes[end] != b'\n' {
            if (bytes[end] == b'$' || bytes[end] == b'%') && bytes.get(end + 1) == Some(&b'{') {
                if end > 0 && bytes[end - 1] == bytes[end] {
                    // `$${` / `%%{` is an escaped literal.
                    end += 2;
                    continue;
                }
                break;
            }
            end += 1;
        }
        let ends_line = end < bytes.len() && bytes[end] == b'\n';
        let literal = &rest[..end];
        if let Some(Mode::Heredoc {
            marker,
            start_of_line,
        }) = self.modes.last_mut()
        {
            if ends_line || end == bytes.len() {
                if *start_of_line && literal.trim() == marker.as_str() {
                    self.pos += end;
                    self.modes.pop();
                    return;
                }
                *start_of_line = true;
            } else {
                *start_of_line = false;
            }
        }
        self.pos += if ends_line { end + 1 } else { end.max(1) };
    }
}

/// `<<EOT\n` or `<<-EOT\n` (HCL only treats `<<` as a heredoc when an identifier and a line
/// end follow directly); returns the closing marker.
fn heredoc_introducer(rest: &str) -> Option<String> {
    let after = rest.strip_prefix("<<")?;
    let after = after.strip_prefix('-').unwrap_or(after);
    let line = after.split('\n').next()?;
    if line.len() == after.len() {
        return None;
    }
    let marker = line.strip_suffix('\r').unwrap_or(line);
    let mut chars = marker.chars();
    let first = chars.next()?;
    let is_ident = (first == '_' || first.is_alphabetic())
        && chars.all(|c| c == '_' || c == '-' || c.is_alphanumeric());
    is_ident.then(|| marker.to_string())
}

/// Turns the found tokens into HCL's diagnostics, with HCL's limits on repetition: bitwise
/// operators at most four times, `;` once, backticks and apostrophes on alternate occurrences
/// (so an opening/closing pair is reported once) at most twice, everything else every time.
fn report(filename: &str, src: &str, found: &[(BadToken, usize)]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let (mut bitwise, mut backticks, mut apostrophes, mut semicolons) = (0, 0, 0, 0);
    for &(token, offset) in found {
        let (summary, detail): (&str, String) = match token {
            BadToken::BitwiseAnd
            | BadToken::BitwiseOr
            | BadToken::BitwiseNot
            | BadToken::BitwiseXor => {
                if bitwise >= 4 {
                    continue;
                }
                bitwise += 1;
                let suggestion = match token {
                    BadToken::BitwiseAnd => " Did you mean boolean AND (\"&&\")?",
                    BadToken::BitwiseOr => " Did you mean boolean OR (\"||\")?",
                    BadToken::BitwiseNot => " Did you mean boolean NOT (\"!\")?",
                    _ => "",
                };
                (
                    "Unsupported operator",
                    format!("Bitwise operators are not supported.{suggestion}"),
                )
            }
            BadToken::Backtick => {
                let told = backticks;
                if backticks <= 2 {
                    backticks += 1;
                }
                if told % 2 != 0 {
                    continue;
                }
                (
                    "Invalid character",
                    "The \"`\" character is not valid. To create a multi-line string, use the \
                     \"heredoc\" syntax, like \"<<EOT\"."
                        .to_string(),
                )
            }
            BadToken::Apostrophe => {
                let told = apostrophes;
                if apostrophes <= 2 {
                    apostrophes += 1;
                }
                if told % 2 != 0 {
                    continue;
                }
                (
                    "Invalid character",
                    "Single quotes are not valid. Use double quotes (\") to enclose strings."
                        .to_string(),
                )
            }
            BadToken::Semicolon => {
                if semicolons >= 1 {
                    continue;
                }
                semicolons += 1;
                (
                    "Invalid character",
                    "The \";\" character is not valid. Use newlines to separate arguments and \
                     blocks, and commas to separate items in collection values."
                        .to_string(),
                )
            }
            BadToken::QuotedNewline => (
                "Invalid multi-line string",
                "Quoted strings may not be split over multiple lines. To produce a multi-line \
                 string, either use the \\n escape to represent a newline character or use the \
                 \"heredoc\" multi-line template syntax."
                    .to_string(),
            ),
            BadToken::Invalid => {
                let c = src[offset..].chars().next().unwrap_or(' ');
                let detail = if c == '\u{201c}' || c == '\u{201d}' {
                    "\"Curly quotes\" are not valid here. These can sometimes be inadvertently \
                     introduced when sharing code via documents or discussion forums. It might \
                     help to replace the character with a \"normal\" quote character."
                } else {
                    "This character is not used within the language."
                };
                ("Invalid character", detail.to_string())
            }
        };
        diagnostics
            .push(Diagnostic::error(summary, detail).at(filename, line_of(src.as_bytes(), offset)));
    }
    diagnostics
}

/// Maps hcl-rs's parse error onto HCL's wording where the two describe the same situation;
/// anything else keeps hcl-rs's own description.
fn map_parse_error(filename: &str, src: &str, err: &parser::Error) -> Diagnostic {
    // hcl-rs can point into the middle of a multi-byte character (found by fuzzing:
    // `tder \u{7a0}`); everything below slices `src` at this offset.
    let offset = floor_char_boundary(src, err.location().offset());
    let line = err.location().line();
    let message = err.message();
    let at_end = src[offset..].trim().is_empty();

    let (summary, detail) = if message.starts_with("invalid structure")
        || message == "unexpected token"
    {
        argument_or_block_required(src, offset)
    } else if message.starts_with("invalid block body") {
        if at_end {
            (
                "Unclosed configuration block".to_string(),
                "There is no closing brace for this block before the end of the file. This may \
                 be caused by incorrect brace nesting elsewhere in this file."
                    .to_string(),
            )
        } else {
            argument_or_block_required(src, offset)
        }
    } else if message.starts_with("invalid expression") {
        (
            "Invalid expression".to_string(),
            "Expected the start of an expression, but found an invalid expression token."
                .to_string(),
        )
    } else if message.contains("redefined attribute") {
        let name: String = src[offset..]
            .chars()
            .take_while(|&c| c == '_' || c == '-' || c.is_alphanumeric())
            .collect();
        (
            "Attribute redefined".to_string(),
            format!("The argument \"{name}\" was already set. Each argument may be set only once."),
        )
    } else if message == "expected newline or eof" {
        (
            "Missing newline after argument".to_string(),
            "An argument definition must end with a newline.".to_string(),
        )
    } else {
        ("Invalid syntax".to_string(), capitalize(message))
    };
    Diagnostic::error(summary, detail).at(filename, line)
}

/// HCL says this when a body item does not start like an argument or block; it adds a hint
/// about `=` when the item did start with a name.
fn argument_or_block_required(src: &str, offset: usize) -> (String, String) {
    let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = src[line_start..offset].trim_end();
    let starts_with_name = src[offset..]
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_alphabetic())
        || before
            .chars()
            .last()
            .is_some_and(|c| c == '_' || c == '-' || c == '"' || c.is_alphanumeric());
    let detail = if starts_with_name {
        "An argument or block definition is required here. To set an argument, use the equals \
         sign \"=\" to introduce the argument value."
    } else {
        "An argument or block definition is required here."
    };
    (
        "Argument or block definition required".to_string(),
        detail.to_string(),
    )
}

fn capitalize(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => "The file could not be parsed.".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(src: &str) -> Vec<(String, String, usize)> {
        match parse_native("main.tf", src.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(diags) => diags
                .into_iter()
                .map(|d| (d.summary, d.detail, d.pos.map_or(0, |p| p.line)))
                .collect(),
        }
    }

    #[test]
    fn semicolons_are_reported_once_in_hcl_words_before_the_parse_error() {
        let found = errors("a;sd;ajsd;lajsd;lasjdf;a");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "Invalid character");
        assert!(found[0].1.starts_with("The \";\" character is not valid."));
        assert_eq!(found[1].0, "Argument or block definition required");
        assert!(found[1].1.contains("use the equals sign"));
    }

    #[test]
    fn leading_semicolon_gets_the_short_argument_hint() {
        let found = errors(";asdf;");
        assert_eq!(
            found[1].1,
            "An argument or block definition is required here."
        );
    }

    #[test]
    fn parse_error_inside_a_multibyte_character_is_reported_not_a_panic() {
        // Minimized from the hcl_variables fuzz target (fuzz/regressions/hcl_variables/).
        let found = errors("tder \u{7a0}");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].2, 1, "{found:?}");
    }

    #[test]
    fn lone_name_is_an_argument_or_block_error() {
        let found = errors("a");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "Argument or block definition required");
    }

    #[test]
    fn characters_inside_strings_comments_and_heredocs_are_fine() {
        let src = "# a; comment `x` 'y'\n/* & | ^ ~ */\nx = \"a;b `c` 'd' ${1} \\\" & $${x}\"\n\
                   y = <<-EOT\n  a; b ' ` ${\"q;\"}\n  EOT\nz = \"${ {a = 1}[\"a\"] }\"\n";
        assert_eq!(errors(src), Vec::new());
    }

    #[test]
    fn apostrophes_are_reported_once_per_pair() {
        let found = errors("x = 'a'\n");
        let apostrophes: Vec<_> = found
            .iter()
            .filter(|f| f.1.starts_with("Single quotes are not valid."))
            .collect();
        assert_eq!(apostrophes.len(), 1);
    }

    #[test]
    fn bitwise_operator_suggests_the_boolean_one() {
        let found = errors("x = true & false\n");
        assert_eq!(found[0].0, "Unsupported operator");
        assert_eq!(
            found[0].1,
            "Bitwise operators are not supported. Did you mean boolean AND (\"&&\")?"
        );
    }

    #[test]
    fn newline_in_a_quoted_string_is_an_error_on_its_line() {
        let found = errors("x = 1\ny = \"abc\ndef\"\n");
        assert_eq!(found[0].0, "Invalid multi-line string");
        assert_eq!(found[0].2, 2);
    }

    #[test]
    fn unknown_character_is_not_used_within_the_language() {
        let found = errors("x = 1\ny = @\n");
        assert_eq!(found[0].0, "Invalid character");
        assert_eq!(
            found[0].1,
            "This character is not used within the language."
        );
        assert_eq!(found[0].2, 2);
    }

    #[test]
    fn unclosed_block_at_end_of_file() {
        let found = errors("variable \"a\" {\n  type = string\n");
        assert_eq!(found[0].0, "Unclosed configuration block");
    }

    #[test]
    fn two_arguments_on_one_line() {
        let found = errors("a = 1 b = 2\n");
        assert_eq!(found[0].0, "Missing newline after argument");
    }

    #[test]
    fn redefined_argument() {
        let found = errors("a = 1\na = 2\n");
        assert_eq!(found[0].0, "Attribute redefined");
        assert_eq!(
            found[0].1,
            "The argument \"a\" was already set. Each argument may be set only once."
        );
        assert_eq!(found[0].2, 2);
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let found = match parse_native("main.tf", b"x = 1\ny = \"\xff\"\n") {
            Err(d) => d,
            Ok(_) => panic!("expected an error"),
        };
        assert_eq!(found[0].summary, "Invalid character encoding");
        assert_eq!(found[0].pos.as_ref().map(|p| p.line), Some(2));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        assert!(parse_native("main.tf", b"\xef\xbb\xbfx = 1\n").is_ok());
    }

    #[test]
    fn repeated_object_keys_parse_with_spans_of_the_original_text() {
        let src =
            "x = {\n  \"debug\" = \"yes\"\n  \"debug\" = \"no\"\n  debug = 3\n  debug = 4\n}\n";
        let file = match parse_native("main.tf", src.as_bytes()) {
            Ok(file) => file,
            Err(diags) => panic!("{diags:?}"),
        };
        let names: Vec<_> = file.renamed_keys.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["debug", "debug"]);
        let placeholder = &file.renamed_keys[0].placeholder;
        assert_eq!(placeholder.len(), "\"debug\"".len());
        assert!(!src.contains(placeholder.as_str()));
    }

    #[test]
    fn tabs_are_whitespace() {
        assert_eq!(errors("variable \"A\" {\n\ttype = \tbool\n}\n"), Vec::new());
    }
}

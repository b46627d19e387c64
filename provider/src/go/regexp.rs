//! Go's `regexp` (RE2 syntax), which upstream compiles parameter `validation.regex` with. Rust's
//! `regex` crate has the same feature set (no backreferences, no lookaround) but reads a few
//! things differently; this module rewrites a Go pattern into an equivalent Rust one, and words
//! compile errors the way Go does (`error parsing regexp: missing closing ): `(abc``).
//!
//! What differs and is rewritten:
//! - `\d \w \s \b` (and negations) are ASCII-only in Go, Unicode in Rust; Go's `\s` has no `\v`.
//! - `{` that does not start a valid repetition is a literal in Go, an error in Rust.
//! - `\Q...\E` quotes literally in Go only.
//! - Octal escapes (`\0`, `\012`) exist only in Go.
//! - Inside `[...]`, Rust reads `[`, `&&`, `--` and `~~` as nested classes and set operations;
//!   in Go they are literals.
//! - Go lets any ASCII punctuation be escaped (`\/`, `\'`).

use regex::Regex;

/// Go rejects repetition counts above this.
const MAX_REPEAT: u64 = 1000;

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = r"\t\n\f\r ";

/// Compiles a Go pattern; the error is Go's `regexp.Compile` message.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&translated).map_err(|e| match e {
        regex::Error::CompiledTooBig(_) => go_message("expression too large", pattern),
        _ => go_error_for(pattern),
    })
}

fn go_message(code: &str, expr: &str) -> String {
    format!("error parsing regexp: {code}: `{expr}`")
}

struct Translator<'a> {
    chars: Vec<char>,
    pos: usize,
    out: String,
    pattern: &'a str,
}

fn translate(pattern: &str) -> Result<String, String> {
    let mut t = Translator {
        chars: pattern.chars().collect(),
        pos: 0,
        out: String::with_capacity(pattern.len() + 8),
        pattern,
    };
    t.top()?;
    Ok(t.out)
}

impl Translator<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn top(&mut self) -> Result<(), String> {
        // Whether the previous item can take a repetition operator (Go reports a `{n}` with
        // nothing before it as a missing argument).
        let mut repeatable = false;
        while let Some(c) = self.peek(0) {
            match c {
                '\\' => {
                    self.escape(false)?;
                    repeatable = true;
                }
                '[' => {
                    self.class()?;
                    repeatable = true;
                }
                '{' => match self.repeat_len() {
                    Some((len, min, max)) => {
                        let text: String = self.chars[self.pos..self.pos + len].iter().collect();
                        if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                            return Err(go_message("invalid repeat count", &text));
                        }
                        if !repeatable {
                            return Err(go_message(
                                "missing argument to repetition operator",
                                &text,
                            ));
                        }
                        self.out.push_str(&text);
                        self.pos += len;
                    }
                    None => {
                        self.out.push_str(r"\{");
                        self.pos += 1;
                        repeatable = true;
                    }
                },
                '(' | '|' => {
                    self.out.push(c);
                    self.pos += 1;
                    repeatable = false;
                    // Copy a group's `?flags:` / `?P<name>` header as is.
                    if c == '(' && self.peek(0) == Some('?') {
                        while let Some(h) = self.peek(0) {
                            self.out.push(h);
                            self.pos += 1;
                            if h == ':' || h == ')' || h == '>' {
                                repeatable = h == ')';
                                break;
                            }
                        }
                    }
                }
                _ => {
                    self.out.push(c);
                    self.pos += 1;
                    // Go repeats anything but a group opener or alternation, even `^` and `$`.
                    repeatable = true;
                }
            }
        }
        Ok(())
    }

    /// `{n}`, `{n,}` or `{n,m}` starting at the current `{`: its length and bounds.
    fn repeat_len(&self) -> Option<(usize, u64, Option<u64>)> {
        let rest: String = self.chars[self.pos..].iter().collect();
        let close = rest.find('}')?;
        let inner = &rest[1..close];
        let number = |s: &str| -> Option<u64> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Go caps what it parses; anything that long is over the limit anyway.
            Some(s.parse::<u64>().unwrap_or(u64::MAX))
        };
        let (min, max) = match inner.split_once(',') {
            None => {
                let n = number(inner)?;
                (n, Some(n))
            }
            Some((lo, "")) => (number(lo)?, None),
            Some((lo, hi)) => (number(lo)?, Some(number(hi)?)),
        };
        Some((rest[..=close].chars().count(), min, max))
    }

    /// An escape at the current backslash, outside (`in_class == false`) or inside a class.
    fn escape(&mut self, in_class: bool) -> Result<(), String> {
        let Some(c) = self.peek(1) else {
            return Err(go_message("trailing backslash at end of expression", ""));
        };
        match c {
            'Q' if !in_class => {
                self.pos += 2;
                let mut literal = String::new();
                while let Some(d) = self.peek(0) {
                    if d == '\\' && self.peek(1) == Some('E') {
                        self.pos += 2;
                        break;
                    }
                    literal.push(d);
                    self.pos += 1;
                }
                self.out.push_str(&regex::escape(&literal));
                return Ok(());
            }
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                let set = match c.to_ascii_lowercase() {
                    'd' => DIGIT,
                    'w' => WORD,
                    _ => SPACE,
                };
                let negated = c.is_ascii_uppercase();
                match (in_class, negated) {
                    (true, false) => self.out.push_str(set),
                    _ => self
                        .out
                        .push_str(&format!("[{}{set}]", if negated { "^" } else { "" })),
                }
            }
            'b' | 'B' if !in_class => self.out.push_str(&format!("(?-u:\\{c})")),
            '0'..='7' => {
                // Go: `\0` and `\1`..`\7` followed by another octal digit start an octal code
                // of up to three digits; a lone `\1`..`\7` is a backreference, which it rejects.
                let digits: String = self.chars[self.pos + 1..]
                    .iter()
                    .take(3)
                    .take_while(|d| ('0'..='7').contains(d))
                    .collect();
                if c != '0' && digits.len() < 2 {
                    return Err(go_message("invalid escape sequence", &format!("\\{c}")));
                }
                let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
                self.out.push_str(&format!("\\x{{{code:x}}}"));
                self.pos += 1 + digits.len();
                return Ok(());
            }
            'p' | 'P' | 'x' if self.peek(2) == Some('{') => {
                // Copy `\p{Name}` / `\x{10FFFF}` whole so its brace is not read as a repeat.
                let end = self.chars[self.pos..]
                    .iter()
                    .position(|&d| d == '}')
                    .map(|i| self.pos + i + 1)
                    .unwrap_or(self.chars.len());
                self.out.extend(&self.chars[self.pos..end]);
                self.pos = end;
                return Ok(());
            }
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => {
                self.out.push_str(&format!("\\x{{{:x}}}", c as u32));
            }
            c => {
                self.out.push('\\');
                self.out.push(c);
            }
        }
        self.pos += 2;
        Ok(())
    }

    /// A bracket expression at the current `[`.
    fn class(&mut self) -> Result<(), String> {
        let start_byte: usize = self.chars[..self.pos].iter().map(|c| c.len_utf8()).sum();
        self.out.push('[');
        self.pos += 1;
        if self.peek(0) == Some('^') {
            self.out.push('^');
            self.pos += 1;
        }
        // A `]` right at the start is a literal in both dialects.
        let mut first = true;
        // Whether the last item was a single character, which a `-` can turn into a range.
        let mut single = false;
        loop {
            let Some(c) = self.peek(0) else {
                let unclosed = self.pattern.get(start_byte..).unwrap_or(self.pattern);
                return Err(go_message("missing closing ]", unclosed));
            };
            match c {
                ']' if !first => {
                    self.out.push(']');
                    self.pos += 1;
                    return Ok(());
                }
                '[' if self.peek(1) == Some(':') => {
                    // `[:alpha:]` is the same in both; copy it through its `:]`.
                    let rest: String = self.chars[self.pos..].iter().collect();
                    match rest.find(":]") {
                        Some(end) if end > 1 => {
                            self.out.push_str(&rest[..end + 2]);
                            self.pos += rest[..end + 2].chars().count();
                            single = false;
                        }
                        _ => {
                            self.out.push_str(r"\[");
                            self.pos += 1;
                            single = true;
                        }
                    }
                }
                '\\' => {
                    let before = self.pos;
                    self.escape(true)?;
                    // Class escapes like `\d` cannot end or start a range.
                    single = !matches!(
                        self.chars.get(before + 1),
                        Some('d' | 'D' | 'w' | 'W' | 's' | 'S' | 'p' | 'P')
                    );
                }
                '-' if single && self.peek(1).is_some_and(|n| n != ']') => {
                    // A range: copy the operator, then its upper end.
                    self.out.push('-');
                    self.pos += 1;
                    match self.peek(0) {
                        Some('\\') => {
                            self.escape(true)?;
                        }
                        Some(hi) => {
                            self.push_class_literal(hi);
                            self.pos += 1;
                        }
                        None => {}
                    }
                    single = false;
                }
                c => {
                    self.push_class_literal(c);
                    self.pos += 1;
                    single = true;
                }
            }
            first = false;
        }
    }

    /// A literal inside a class, escaped when Rust would read it as an operator.
    fn push_class_literal(&mut self, c: char) {
        if matches!(c, '[' | '&' | '-' | '~') {
            self.out.push('\\');
        }
        self.out.push(c);
    }
}

/// Go's message for a pattern Rust refused, from the kind and place of the syntax error.
fn go_error_for(pattern: &str) -> String {
    use regex_syntax::ast::ErrorKind as K;
    let err = match regex_syntax::ast::parse::Parser::new().parse(pattern) {
        Ok(_) => return go_message("invalid or unsupported Perl syntax", pattern),
        Err(e) => e,
    };
    let span = err.span();
    let from_start = pattern.get(span.start.offset..).unwrap_or(pattern);
    // Some spans are empty (they point at the offending operator); Go shows the operator.
    let at = match pattern.get(span.start.offset..span.end.offset) {
        Some("") | None => from_start
            .char_indices()
            .nth(1)
            .map_or(from_start, |(end, _)| &from_start[..end]),
        Some(text) => text,
    };
    match err.kind() {
        K::ClassUnclosed => go_message("missing closing ]", from_start),
        K::GroupUnclosed => go_message("missing closing )", pattern),
        K::GroupUnopened => go_message("unexpected )", pattern),
        K::RepetitionMissing => go_message("missing argument to repetition operator", at),
        K::RepetitionCountInvalid => go_message("invalid repeat count", at),
        K::EscapeUnexpectedEof => go_message("trailing backslash at end of expression", ""),
        K::EscapeUnrecognized
        | K::UnsupportedBackreference
        | K::EscapeHexInvalid
        | K::EscapeHexInvalidDigit
        | K::EscapeHexEmpty => go_message("invalid escape sequence", at),
        K::ClassRangeInvalid | K::ClassRangeLiteral => {
            go_message("invalid character class range", at)
        }
        K::ClassEscapeInvalid | K::UnicodeClassInvalid => {
            go_message("invalid character class range", at)
        }
        K::GroupNameDuplicate { .. }
        | K::GroupNameEmpty
        | K::GroupNameInvalid
        | K::GroupNameUnexpectedEof => go_message("invalid named capture", at),
        K::NestLimitExceeded(_) => go_message("expression nests too deeply", ""),
        _ => go_message("invalid or unsupported Perl syntax", at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        compile(pattern).unwrap().is_match(value)
    }

    #[test]
    fn perl_classes_are_ascii_like_go() {
        assert!(matches(r"^\d+$", "123"));
        assert!(
            !matches(r"^\d+$", "١٢٣"),
            "Arabic-Indic digits are not \\d in Go"
        );
        assert!(!matches(r"^\w+$", "héllo"));
        assert!(!matches(r"^\s$", "\u{b}"), "Go's \\s has no vertical tab");
        assert!(matches(r"^[\w-]+$", "a-b_c"));
        assert!(matches(r"^[^\d]$", "x"));
        assert!(matches(r"\bfoo\b", "a foo b"));
    }

    #[test]
    fn literal_braces_and_quoting() {
        assert!(matches(r"^a{$", "a{"));
        assert!(matches(r"^a{,3}$", "a{,3}"));
        assert!(matches(r"^a{2}$", "aa"));
        assert!(matches(r"^\Q.*+\E$", ".*+"));
        assert!(matches(r"^\/path\/$", "/path/"));
    }

    #[test]
    fn class_operators_are_literals_in_go() {
        assert!(matches(r"^[a&&b]+$", "a&b"));
        assert!(matches(r"^[a~~]+$", "~a"));
        assert!(matches(r"^[+--]+$", ",-+"));
        assert!(matches(r"^[[]$", "["));
        assert!(matches(r"^[[:alpha:]]+$", "abc"));
        assert!(matches(r"^[]a]+$", "]a"));
    }

    #[test]
    fn octal_escapes() {
        assert!(matches(r"^\101$", "A"));
        assert!(matches(r"^\0$", "\0"));
    }

    #[test]
    fn go_error_texts() {
        assert_eq!(
            compile("(abc").unwrap_err(),
            "error parsing regexp: missing closing ): `(abc`"
        );
        assert_eq!(
            compile("abc)").unwrap_err(),
            "error parsing regexp: unexpected ): `abc)`"
        );
        assert_eq!(
            compile("[a-z").unwrap_err(),
            "error parsing regexp: missing closing ]: `[a-z`"
        );
        assert_eq!(
            compile("*a").unwrap_err(),
            "error parsing regexp: missing argument to repetition operator: `*`"
        );
        assert_eq!(
            compile(r"a\q").unwrap_err(),
            "error parsing regexp: invalid escape sequence: `\\q`"
        );
        assert_eq!(
            compile(r"a\").unwrap_err(),
            "error parsing regexp: trailing backslash at end of expression: ``"
        );
        assert_eq!(
            compile("a{1001}").unwrap_err(),
            "error parsing regexp: invalid repeat count: `{1001}`"
        );
        assert_eq!(
            compile(r"(a)\1").unwrap_err(),
            "error parsing regexp: invalid escape sequence: `\\1`"
        );
    }
}

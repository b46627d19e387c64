//! JSON decoding with the acceptance rules and error texts of Go's `encoding/json`, for the few
//! places where upstream decodes JSON handed over in environment variables or parameter values
//! (`CODER_WORKSPACE_OWNER_GROUPS`, `CODER_WORKSPACE_OWNER_RBAC_ROLES`, `list(string)` parameter
//! values). Template authors see these texts in plan errors, so they follow Go's wording:
//! `EOF`, `unexpected EOF`, `invalid character 'x' looking for beginning of value`,
//! `json: cannot unmarshal number into Go value of type string`, ...

use std::collections::BTreeMap;

/// A decoded JSON document. Numbers are kept as their text: nothing here needs their value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in document order; a repeated key keeps the last value, as Go's map decoding does.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The kind name Go's `UnmarshalTypeError` reports for a JSON value.
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "bool",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

/// How much of the input one value must cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `json.NewDecoder(r).Decode(&v)`: the first value only; whatever follows it is ignored.
    /// Empty input is `EOF`, a value cut short is `unexpected EOF`.
    FirstValue,
    /// `json.Unmarshal`: the whole input is one value, surrounded by nothing but whitespace.
    WholeInput,
}

/// Parses one JSON value, reporting syntax errors as Go does.
pub fn parse(input: &str, framing: Framing) -> Result<Json, String> {
    let mut p = Parser {
        bytes: input.as_bytes(),
        pos: 0,
        framing,
    };
    p.skip_space();
    if p.pos == p.bytes.len() {
        return Err(match framing {
            Framing::FirstValue => "EOF".to_string(),
            Framing::WholeInput => "unexpected end of JSON input".to_string(),
        });
    }
    let value = p.value(0)?;
    if framing == Framing::WholeInput {
        p.skip_space();
        if let Some(&c) = p.bytes.get(p.pos) {
            return Err(invalid(c, "after top-level value"));
        }
    }
    Ok(value)
}

/// Decodes into Go's `[]string`: `null` is an empty list, a `null` element is `""`.
pub fn decode_string_list(input: &str, framing: Framing) -> Result<Vec<String>, String> {
    match parse(input, framing)? {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => items.iter().map(as_go_string).collect(),
        other => Err(type_error(&other, "[]string")),
    }
}

/// Decodes into Go's `[]map[string]string`: `null` is an empty list, a `null` element is an
/// empty map and a `null` member value is `""`.
pub fn decode_string_maps(
    input: &str,
    framing: Framing,
) -> Result<Vec<BTreeMap<String, String>>, String> {
    match parse(input, framing)? {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => items
            .iter()
            .map(|item| match item {
                Json::Null => Ok(BTreeMap::new()),
                Json::Object(members) => members
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), as_go_string(v)?)))
                    .collect(),
                other => Err(type_error(other, "map[string]string")),
            })
            .collect(),
        other => Err(type_error(&other, "[]map[string]string")),
    }
}

fn as_go_string(value: &Json) -> Result<String, String> {
    match value {
        Json::String(s) => Ok(s.clone()),
        // Go leaves the zero value in place when it decodes null into a string.
        Json::Null => Ok(String::new()),
        other => Err(type_error(other, "string")),
    }
}

fn type_error(value: &Json, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go value of type {go_type}",
        value.kind()
    )
}

/// Go's scanner error: `invalid character 'c' <context>`, with Go's quoting of the byte.
fn invalid(c: u8, context: &str) -> String {
    let quoted = match c {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        _ => {
            // Go quotes the byte as the rune of the same number.
            let ch = char::from(c);
            let q = crate::schema::validators::go_quote(&ch.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    };
    format!("invalid character {quoted} {context}")
}

/// Go refuses nesting deeper than 10000; we stop earlier so deep input cannot exhaust the
/// stack of the request thread (no real group or role list comes anywhere near).
const MAX_DEPTH: usize = 512;

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    framing: Framing,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eof(&self) -> String {
        match self.framing {
            Framing::FirstValue => "unexpected EOF".to_string(),
            Framing::WholeInput => "unexpected end of JSON input".to_string(),
        }
    }

    fn next(&mut self) -> Result<u8, String> {
        let c = *self.bytes.get(self.pos).ok_or_else(|| self.eof())?;
        self.pos += 1;
        Ok(c)
    }

    fn peek(&self) -> Result<u8, String> {
        self.bytes.get(self.pos).copied().ok_or_else(|| self.eof())
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        self.skip_space();
        let c = self.peek()?;
        if depth > MAX_DEPTH && (c == b'[' || c == b'{') {
            return Err(invalid(c, "exceeded max depth"));
        }
        match c {
            b'{' => {
                self.pos += 1;
                self.object(depth + 1)
            }
            b'[' => {
                self.pos += 1;
                self.array(depth + 1)
            }
            b'"' => {
                self.pos += 1;
                self.string().map(Json::String)
            }
            b'-' | b'0'..=b'9' => self.number().map(Json::Number),
            b't' => self.literal("true", Json::Bool(true)),
            b'f' => self.literal("false", Json::Bool(false)),
            b'n' => self.literal("null", Json::Null),
            c => Err(invalid(c, "looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        // The first byte was already matched by the caller.
        self.pos += 1;
        for expected in word.bytes().skip(1) {
            let c = self.next()?;
            if c != expected {
                return Err(invalid(
                    c,
                    &format!("in literal {word} (expecting '{}')", char::from(expected)),
                ));
            }
        }
        Ok(value)
    }

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        let mut items = Vec::new();
        self.skip_space();
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_space();
            match self.next()? {
                b',' => continue,
                b']' => return Ok(Json::Array(items)),
                c => return Err(invalid(c, "after array element")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        let mut members: Vec<(String, Json)> = Vec::new();
        self.skip_space();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_space();
            match self.next()? {
                b'"' => {}
                c => return Err(invalid(c, "looking for beginning of object key string")),
            }
            let key = self.string()?;
            self.skip_space();
            match self.next()? {
                b':' => {}
                c => return Err(invalid(c, "after object key")),
            }
            let value = self.value(depth)?;
            members.retain(|(k, _)| *k != key);
            members.push((key, value));
            self.skip_space();
            match self.next()? {
                b',' => continue,
                b'}' => return Ok(Json::Object(members)),
                c => return Err(invalid(c, "after object key:value pair")),
            }
        }
    }

    /// The rest of a string after its opening quote.
    fn string(&mut self) -> Result<String, String> {
        let mut out = String::new();
        loop {
            // Copy a run of plain bytes at once; the input is UTF-8, so runs cut at ASCII
            // quote/backslash/control bytes stay valid UTF-8.
            let start = self.pos;
            while let Some(&c) = self.bytes.get(self.pos) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&String::from_utf8_lossy(&self.bytes[start..self.pos]));
            match self.next()? {
                b'"' => return Ok(out),
                b'\\' => self.escape(&mut out)?,
                c => return Err(invalid(c, "in string literal")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        match self.next()? {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let unit = self.hex4()?;
                if (0xD800..0xDC00).contains(&unit) {
                    // A high surrogate pairs with an immediately following `\uDC00`-`\uDFFF`;
                    // otherwise Go substitutes U+FFFD and reads what follows on its own.
                    let rest = &self.bytes[self.pos..];
                    if rest.len() >= 6 && rest[0] == b'\\' && rest[1] == b'u' {
                        if let Some(low) = parse_hex4(&rest[2..6]) {
                            if (0xDC00..0xE000).contains(&low) {
                                self.pos += 6;
                                let combined = 0x10000
                                    + ((u32::from(unit) - 0xD800) << 10)
                                    + (u32::from(low) - 0xDC00);
                                out.push(char::from_u32(combined).unwrap_or('\u{FFFD}'));
                                return Ok(());
                            }
                        }
                    }
                    out.push('\u{FFFD}');
                } else {
                    out.push(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}'));
                }
            }
            c => return Err(invalid(c, "in string escape code")),
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, String> {
        let mut unit: u16 = 0;
        for _ in 0..4 {
            let c = self.next()?;
            let digit = char::from(c)
                .to_digit(16)
                .ok_or_else(|| invalid(c, "in \\u hexadecimal character escape"))?;
            unit = unit * 16 + digit as u16;
        }
        Ok(unit)
    }

    /// A number, following Go's scanner states; it ends at the first byte that cannot continue
    /// it (the caller judges that byte).
    fn number(&mut self) -> Result<String, String> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
            let c = self.peek_in_number()?;
            if !c.is_ascii_digit() {
                return Err(invalid(c, "in numeric literal"));
            }
        }
        // Integer part: a single 0, or a run of digits not starting with 0.
        if self.bytes.get(self.pos) == Some(&b'0') {
            self.pos += 1;
        } else {
            self.digits();
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let c = self.peek_in_number()?;
            if !c.is_ascii_digit() {
                return Err(invalid(c, "after decimal point in numeric literal"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            let c = self.peek_in_number()?;
            if !c.is_ascii_digit() {
                return Err(invalid(c, "in exponent of numeric literal"));
            }
            self.digits();
        }
        Ok(String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned())
    }

    /// Inside a number, running out of input means the number is incomplete. Go's whole-input
    /// check feeds a space at the end, so it blames that space.
    fn peek_in_number(&self) -> Result<u8, String> {
        match (self.bytes.get(self.pos), self.framing) {
            (Some(&c), _) => Ok(c),
            (None, Framing::WholeInput) => Ok(b' '),
            (None, Framing::FirstValue) => Err(self.eof()),
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }
}

fn parse_hex4(bytes: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(bytes).ok()?;
    u16::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(input: &str) -> Result<Vec<String>, String> {
        decode_string_list(input, Framing::FirstValue)
    }

    #[test]
    fn empty_input_is_eof() {
        assert_eq!(groups("").unwrap_err(), "EOF");
        assert_eq!(groups("  \n").unwrap_err(), "EOF");
    }

    #[test]
    fn truncated_input_is_unexpected_eof() {
        assert_eq!(groups("[\"a\"").unwrap_err(), "unexpected EOF");
        assert_eq!(groups("[\"a").unwrap_err(), "unexpected EOF");
        assert_eq!(groups("-").unwrap_err(), "unexpected EOF");
    }

    #[test]
    fn syntax_errors_use_go_wording() {
        assert_eq!(
            groups("x").unwrap_err(),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(
            groups("[\"a\" \"b\"]").unwrap_err(),
            "invalid character '\"' after array element"
        );
        assert_eq!(
            groups("[\"a\",]").unwrap_err(),
            "invalid character ']' looking for beginning of value"
        );
        assert_eq!(
            groups("{1}").unwrap_err(),
            "invalid character '1' looking for beginning of object key string"
        );
        assert_eq!(
            groups("[tru]").unwrap_err(),
            "invalid character ']' in literal true (expecting 'e')"
        );
        assert_eq!(
            groups("[\"\\q\"]").unwrap_err(),
            "invalid character 'q' in string escape code"
        );
        assert_eq!(
            groups("[\"a\nb\"]").unwrap_err(),
            "invalid character '\\n' in string literal"
        );
        assert_eq!(
            groups("[1.]").unwrap_err(),
            "invalid character ']' after decimal point in numeric literal"
        );
    }

    #[test]
    fn type_errors_use_go_wording() {
        assert_eq!(
            groups("[\"a\", 1]").unwrap_err(),
            "json: cannot unmarshal number into Go value of type string"
        );
        assert_eq!(
            groups("{}").unwrap_err(),
            "json: cannot unmarshal object into Go value of type []string"
        );
        assert_eq!(
            decode_string_maps("[\"admin\"]", Framing::FirstValue).unwrap_err(),
            "json: cannot unmarshal string into Go value of type map[string]string"
        );
    }

    #[test]
    fn decoder_ignores_what_follows_the_first_value() {
        assert_eq!(groups("[\"a\"] trailing").unwrap(), vec!["a".to_string()]);
        assert!(decode_string_list("[\"a\"] trailing", Framing::WholeInput).is_err());
    }

    #[test]
    fn null_and_escapes_decode_like_go() {
        assert_eq!(groups("null").unwrap(), Vec::<String>::new());
        assert_eq!(
            groups(r#"["\u00e9\ud83d\ude00", null, "\ud800x"]"#).unwrap(),
            vec!["é😀".to_string(), String::new(), "\u{FFFD}x".to_string()]
        );
        let roles =
            decode_string_maps(r#"[{"name":"admin","org_id":null}]"#, Framing::FirstValue).unwrap();
        assert_eq!(roles[0]["name"], "admin");
        assert_eq!(roles[0]["org_id"], "");
    }

    #[test]
    fn deep_nesting_is_refused_without_recursing_further() {
        let deep = "[".repeat(100_000);
        assert_eq!(
            groups(&deep).unwrap_err(),
            "invalid character '[' exceeded max depth"
        );
    }

    #[test]
    fn whole_input_rejects_trailing_and_accepts_plain_lists() {
        assert!(decode_string_list("[\"a\",\"b\"]", Framing::WholeInput).is_ok());
        assert_eq!(
            decode_string_list("", Framing::WholeInput).unwrap_err(),
            "unexpected end of JSON input"
        );
        assert_eq!(
            decode_string_list("[] x", Framing::WholeInput).unwrap_err(),
            "invalid character 'x' after top-level value"
        );
    }
}

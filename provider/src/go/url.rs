//! Go's `net/url` as the upstream provider uses it: `url.Parse` (accepting and rejecting the same
//! inputs, with the same error texts), `URL.String()`, `URL.Port()` and resolving `/` against a
//! URL (`ResolveReference`). Upstream validates `url` and every `icon` with `url.Parse` and
//! returns its error verbatim, and `data.coder_workspace.access_url` is `URL.String()`, so
//! template authors see Go's texts and Go's re-serialisation; this module reproduces both.
//!
//! Behaviour follows current Go (1.24.8+/1.25.2+): a bracketed host must hold an IPv6 address
//! (checked as `netip.ParseAddr` checks it). Colons in an unbracketed host are lax (the last one
//! starts the port), Go's default for modules declaring a Go version before 1.26
//! (`urlstrictcolons=0`), which upstream's go.mod does.
//!
//! Parsed components are bytes: percent-decoding can produce any byte (`/%ff`), and Go keeps
//! those bytes and re-escapes them on output.

use crate::cty::Value;
use crate::schema::validators::{go_quote, go_quote_bytes};
use crate::schema::{Diagnostic, Validator};

/// A parsed URL, Go's `url.URL`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoUrl {
    /// Lowercased, as Go stores it.
    scheme: String,
    /// The rest of `scheme:rest` when `rest` does not start with `/` (`mailto:x`).
    opaque: String,
    user: Option<Userinfo>,
    /// Percent-decoded `host[:port]`; brackets of an IPv6 literal kept.
    host: Vec<u8>,
    /// Percent-decoded path.
    path: Vec<u8>,
    /// The path as written, when Go's default encoding of `path` would differ from it.
    raw_path: String,
    /// `scheme:/path`: no authority at all, so none is printed back.
    omit_host: bool,
    /// A lone trailing `?`.
    force_query: bool,
    raw_query: String,
    fragment: Vec<u8>,
    raw_fragment: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Userinfo {
    username: Vec<u8>,
    password: Option<Vec<u8>>,
}

/// Go's `url.Parse`. The error is the whole Go error text, `parse "<input>": <reason>`.
pub fn parse(raw: &str) -> Result<GoUrl, String> {
    let wrap = |input: &str, reason: String| format!("parse {}: {reason}", go_quote(input));
    let (without_fragment, fragment) = match raw.split_once('#') {
        Some((u, f)) => (u, f),
        None => (raw, ""),
    };
    let mut url = parse_reference(without_fragment).map_err(|r| wrap(without_fragment, r))?;
    if !fragment.is_empty() {
        // Go quotes the whole input (fragment included) when only the fragment is bad.
        url.set_fragment(fragment).map_err(|r| wrap(raw, r))?;
    }
    Ok(url)
}

/// The URL validator upstream shares between the provider `url` and every `icon` attribute:
/// any string Go's `url.Parse` accepts passes (the empty string, relative paths, `data:`…);
/// otherwise the parse error, verbatim. Never warns.
pub fn validator() -> Validator {
    Validator::new(|value: &Value, path| match value.as_str() {
        Some(s) => match parse(s) {
            Ok(_) => Vec::new(),
            Err(message) => vec![Diagnostic::error(message).at(path.clone())],
        },
        None => vec![Diagnostic::error(format!(
            "expected {} to be a string",
            go_quote(&path.flat_key())
        ))
        .at(path.clone())],
    })
}

impl GoUrl {
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// `host[:port]`, percent-decoded (Go's `URL.Host`).
    pub fn host(&self) -> String {
        String::from_utf8_lossy(&self.host).into_owned()
    }

    /// The host without port or IPv6 brackets (Go's `URL.Hostname()`).
    pub fn hostname(&self) -> String {
        String::from_utf8_lossy(split_host_port(&self.host).0).into_owned()
    }

    /// The explicit port, digits only, or `""` (Go's `URL.Port()`).
    pub fn port(&self) -> String {
        String::from_utf8_lossy(split_host_port(&self.host).1).into_owned()
    }

    /// The percent-decoded path (Go's `URL.Path`).
    pub fn path(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }

    /// Go's `u.ResolveReference(&url.URL{Path: "/"})`: scheme, userinfo and host kept, path
    /// replaced by `/`, query, fragment and opaque part dropped.
    pub fn resolve_root(&self) -> GoUrl {
        GoUrl {
            scheme: self.scheme.clone(),
            user: self.user.clone(),
            host: self.host.clone(),
            path: b"/".to_vec(),
            ..GoUrl::default()
        }
    }

    fn set_path(&mut self, raw: &str) -> Result<(), String> {
        let path = unescape(raw, Mode::Path)?;
        self.raw_path = if escape(&path, Mode::Path) == raw.as_bytes() {
            String::new()
        } else {
            raw.to_string()
        };
        self.path = path;
        Ok(())
    }

    fn set_fragment(&mut self, raw: &str) -> Result<(), String> {
        let fragment = unescape(raw, Mode::Fragment)?;
        self.raw_fragment = if escape(&fragment, Mode::Fragment) == raw.as_bytes() {
            String::new()
        } else {
            raw.to_string()
        };
        self.fragment = fragment;
        Ok(())
    }

    /// Go's `URL.EscapedPath()`: the path as written when that is a valid encoding of it.
    fn escaped_path(&self) -> Vec<u8> {
        if !self.raw_path.is_empty()
            && valid_encoded(&self.raw_path, Mode::Path)
            && unescape(&self.raw_path, Mode::Path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.as_bytes().to_vec();
        }
        if self.path == b"*" {
            return b"*".to_vec();
        }
        escape(&self.path, Mode::Path)
    }

    fn escaped_fragment(&self) -> Vec<u8> {
        if !self.raw_fragment.is_empty()
            && valid_encoded(&self.raw_fragment, Mode::Fragment)
            && unescape(&self.raw_fragment, Mode::Fragment).is_ok_and(|f| f == self.fragment)
        {
            return self.raw_fragment.as_bytes().to_vec();
        }
        escape(&self.fragment, Mode::Fragment)
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.scheme.is_empty() {
            out.extend_from_slice(self.scheme.as_bytes());
            out.push(b':');
        }
        if !self.opaque.is_empty() {
            out.extend_from_slice(self.opaque.as_bytes());
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                let omit = self.omit_host && self.host.is_empty() && self.user.is_none();
                if !omit {
                    if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                        out.extend_from_slice(b"//");
                    }
                    if let Some(user) = &self.user {
                        out.extend(escape(&user.username, Mode::UserPassword));
                        if let Some(password) = &user.password {
                            out.push(b':');
                            out.extend(escape(password, Mode::UserPassword));
                        }
                        out.push(b'@');
                    }
                    out.extend(escape(&self.host, Mode::Host));
                }
            }
            let path = self.escaped_path();
            if path.first().is_some_and(|&b| b != b'/') && !self.host.is_empty() {
                out.push(b'/');
            }
            if out.is_empty() {
                // A first segment with a colon would read back as a scheme: Go prefixes `./`.
                let first_segment = path.split(|&b| b == b'/').next().unwrap_or_default();
                if first_segment.contains(&b':') {
                    out.extend_from_slice(b"./");
                }
            }
            out.extend(path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push(b'?');
            out.extend_from_slice(self.raw_query.as_bytes());
        }
        if !self.fragment.is_empty() {
            out.push(b'#');
            out.extend(self.escaped_fragment());
        }
        out
    }
}

/// Go's `URL.String()`.
impl std::fmt::Display for GoUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every byte that is not valid UTF-8 on its own was percent-escaped, so this is lossless.
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

/// Go's `parse(rawURL, viaRequest=false)`; the error is the bare reason.
fn parse_reference(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".to_string());
    }
    let mut url = GoUrl::default();
    if raw == "*" {
        url.path = b"*".to_vec();
        return Ok(url);
    }
    let (scheme, rest) = split_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();

    let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        &rest[..rest.len() - 1]
    } else {
        match rest.split_once('?') {
            Some((before, query)) => {
                url.raw_query = query.to_string();
                before
            }
            None => rest,
        }
    };

    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            // A rootless path after a scheme (`mailto:a@b`) is opaque.
            url.opaque = rest.to_string();
            return Ok(url);
        }
        // `cache_object:foo/bar` must not pass for a relative path (RFC 3986 §3.3).
        let first_segment = rest.split('/').next().unwrap_or_default();
        if first_segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".to_string());
        }
    }

    let mut path = rest;
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let after = &rest[2..];
        let (authority, tail) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        let (user, host) = parse_authority(authority)?;
        url.user = user;
        url.host = host;
        path = tail;
    } else if !url.scheme.is_empty() && rest.starts_with('/') {
        url.omit_host = true;
    }
    url.set_path(path)?;
    Ok(url)
}

/// Go's `getScheme`: `[a-zA-Z][a-zA-Z0-9+.-]*:` or nothing.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".to_string()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<(Option<Userinfo>, Vec<u8>), String> {
    let at = authority.rfind('@');
    let host = parse_host(match at {
        Some(i) => &authority[i + 1..],
        None => authority,
    })?;
    let Some(i) = at else {
        return Ok((None, host));
    };
    let userinfo = &authority[..i];
    if !userinfo.chars().all(valid_userinfo_char) {
        return Err("net/url: invalid userinfo".to_string());
    }
    let user = match userinfo.split_once(':') {
        None => Userinfo {
            username: unescape(userinfo, Mode::UserPassword)?,
            password: None,
        },
        Some((name, password)) => Userinfo {
            username: unescape(name, Mode::UserPassword)?,
            password: Some(unescape(password, Mode::UserPassword)?),
        },
    };
    Ok((Some(user), host))
}

fn valid_userinfo_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.'
                | '_'
                | ':'
                | '~'
                | '!'
                | '$'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | ';'
                | '='
                | '%'
                | '@'
        )
}

/// Go's `parseHost`: `host[:port]` without userinfo.
fn parse_host(host: &str) -> Result<Vec<u8>, String> {
    if let Some(open) = host.rfind('[') {
        if open > 0 {
            return Err("invalid IP-literal".to_string());
        }
        let Some(close) = host.rfind(']') else {
            return Err("missing ']' in host".to_string());
        };
        let colon_port = &host[close + 1..];
        if !valid_optional_port(colon_port) {
            return Err(invalid_port(colon_port));
        }
        let hostname = &host[1..close];
        // RFC 6874: `%25` starts a zone identifier, which may escape more than a host may.
        let mut literal = match hostname.find("%25") {
            Some(zone) => {
                let mut h = unescape(&hostname[..zone], Mode::Host)?;
                h.extend(unescape(&hostname[zone..], Mode::Zone)?);
                h
            }
            None => unescape(hostname, Mode::Host)?,
        };
        match parse_addr(&literal) {
            Err(e) => return Err(format!("invalid host: {e}")),
            Ok(AddrKind::V4) => return Err("invalid IP-literal".to_string()),
            Ok(AddrKind::V6) => {}
        }
        literal.insert(0, b'[');
        literal.push(b']');
        literal.extend_from_slice(colon_port.as_bytes());
        return Ok(literal);
    }
    if let Some(i) = host.rfind(':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(invalid_port(colon_port));
        }
    }
    unescape(host, Mode::Host)
}

fn invalid_port(colon_port: &str) -> String {
    format!("invalid port {} after host", go_quote(colon_port))
}

/// `""` or `:` followed by digits only.
fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => port.is_empty(),
    }
}

/// Go's `splitHostPort` (behind `Hostname()` and `Port()`).
fn split_host_port(host_port: &[u8]) -> (&[u8], &[u8]) {
    let mut host = host_port;
    let mut port: &[u8] = b"";
    if let Some(colon) = host_port.iter().rposition(|&b| b == b':') {
        let colon_port = &host_port[colon..];
        if colon_port[1..].iter().all(u8::is_ascii_digit) {
            host = &host_port[..colon];
            port = &colon_port[1..];
        }
    }
    if host.len() >= 2 && host.starts_with(b"[") && host.ends_with(b"]") {
        host = &host[1..host.len() - 1];
    }
    (host, port)
}

/// Which part of a URL an escape or unescape is for (Go's `encoding` modes that parsing uses).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Go's `unescape`: checks every `%XX` (and, for hosts, every character), then decodes.
fn unescape(s: &str, mode: Mode) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let escape_error = |at: usize, len: usize| {
        let end = (at + len).min(b.len());
        format!("invalid URL escape {}", go_quote_bytes(&b[at..end]))
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if i + 2 >= b.len()
                    || !b[i + 1].is_ascii_hexdigit()
                    || !b[i + 2].is_ascii_hexdigit()
                {
                    return Err(escape_error(i, 3));
                }
                let is_pct25 = &b[i..i + 3] == b"%25";
                // RFC 3986: a host may only %-encode non-ASCII bytes (RFC 6874 adds `%25`).
                if mode == Mode::Host && hex_value(b[i + 1]) < 8 && !is_pct25 {
                    return Err(escape_error(i, 3));
                }
                if mode == Mode::Zone {
                    // Go only lets a zone escape what a host could hold anyway, plus spaces.
                    let v = (hex_value(b[i + 1]) << 4) | hex_value(b[i + 2]);
                    if !is_pct25 && v != b' ' && should_escape(v, Mode::Host) {
                        return Err(escape_error(i, 3));
                    }
                }
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote_bytes(&[c])
                    ));
                }
                i += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push((hex_value(b[i + 1]) << 4) | hex_value(b[i + 2]));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Go's `escape`.
fn escape(s: &[u8], mode: Mode) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if should_escape(c, mode) {
            out.push(b'%');
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 15)]);
        } else {
            out.push(c);
        }
    }
    out
}

/// Go's `validEncoded`: whether a raw path or fragment as written can be printed back as is.
fn valid_encoded(s: &str, mode: Mode) -> bool {
    s.bytes().all(|c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, mode)
    })
}

enum AddrKind {
    V4,
    V6,
}

/// Go's `netip.ParseAddr`, far enough to tell an IPv4 address, an IPv6 address (with zone)
/// and the error text for anything else: `ParseAddr("<in>"): <why>[ (at "<rest>")]`.
fn parse_addr(input: &[u8]) -> Result<AddrKind, String> {
    for &c in input {
        match c {
            b'.' => return parse_ipv4_fields(input, input).map(|()| AddrKind::V4),
            b':' => return parse_ipv6(input).map(|()| AddrKind::V6),
            b'%' => return Err(addr_error(input, "missing IPv6 address", None)),
            _ => {}
        }
    }
    Err(addr_error(input, "unable to parse IP", None))
}

fn addr_error(input: &[u8], why: &str, at: Option<&[u8]>) -> String {
    let mut e = format!("ParseAddr({}): {why}", go_quote_bytes(input));
    if let Some(at) = at.filter(|a| !a.is_empty()) {
        e.push_str(&format!(" (at {})", go_quote_bytes(at)));
    }
    e
}

/// Go's `parseIPv4Fields` over `part` (all of `input`, or the embedded IPv4 tail of an IPv6
/// address); errors name the whole `input`.
fn parse_ipv4_fields(input: &[u8], part: &[u8]) -> Result<(), String> {
    let (mut val, mut pos, mut digits) = (0u32, 0, 0);
    for (i, &c) in part.iter().enumerate() {
        if c.is_ascii_digit() {
            if digits == 1 && val == 0 {
                return Err(addr_error(
                    input,
                    "IPv4 field has octet with leading zero",
                    None,
                ));
            }
            val = val * 10 + u32::from(c - b'0');
            digits += 1;
            if val > 255 {
                return Err(addr_error(input, "IPv4 field has value >255", None));
            }
        } else if c == b'.' {
            if i == 0 || i == part.len() - 1 || part[i - 1] == b'.' {
                return Err(addr_error(
                    input,
                    "IPv4 field must have at least one digit",
                    Some(&part[i..]),
                ));
            }
            if pos == 3 {
                return Err(addr_error(input, "IPv4 address too long", None));
            }
            pos += 1;
            val = 0;
            digits = 0;
        } else {
            return Err(addr_error(input, "unexpected character", Some(&part[i..])));
        }
    }
    if pos < 3 {
        return Err(addr_error(input, "IPv4 address too short", None));
    }
    Ok(())
}

/// Go's `parseIPv6` (validity and error texts only; the address itself is not needed).
fn parse_ipv6(input: &[u8]) -> Result<(), String> {
    let mut s = input;
    if let Some(z) = input.iter().position(|&b| b == b'%') {
        if z + 1 == input.len() {
            return Err(addr_error(input, "zone must be a non-empty string", None));
        }
        s = &input[..z];
    }
    let mut ellipsis: Option<usize> = None;
    if s.starts_with(b"::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Ok(());
        }
    }
    let mut i = 0;
    while i < 16 {
        let mut off = 0;
        let mut acc: u32 = 0;
        while off < s.len() {
            let c = s[off];
            if !c.is_ascii_hexdigit() {
                break;
            }
            acc = (acc << 4) + u32::from(hex_value(c));
            if off > 3 {
                return Err(addr_error(
                    input,
                    "each group must have 4 or less digits",
                    Some(s),
                ));
            }
            if acc > 0xffff {
                return Err(addr_error(input, "IPv6 field has value >=2^16", Some(s)));
            }
            off += 1;
        }
        if off == 0 {
            return Err(addr_error(
                input,
                "each colon-separated field must have at least one digit",
                Some(s),
            ));
        }
        if s.get(off) == Some(&b'.') {
            if ellipsis.is_none() && i != 12 {
                return Err(addr_error(
                    input,
                    "embedded IPv4 address must replace the final 2 fields of the address",
                    Some(s),
                ));
            }
            if i + 4 > 16 {
                return Err(addr_error(
                    input,
                    "too many hex fields to fit an embedded IPv4 at the end of the address",
                    Some(s),
                ));
            }
            parse_ipv4_fields(input, s)?;
            s = b"";
            i += 4;
            break;
        }
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' {
            return Err(addr_error(
                input,
                "unexpected character, want colon",
                Some(s),
            ));
        }
        if s.len() == 1 {
            return Err(addr_error(
                input,
                "colon must be followed by more characters",
                Some(s),
            ));
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return Err(addr_error(input, "multiple :: in address", Some(s)));
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return Err(addr_error(input, "trailing garbage after address", Some(s)));
    }
    if i < 16 && ellipsis.is_none() {
        return Err(addr_error(input, "address string too short", None));
    }
    if i == 16 && ellipsis.is_some() {
        return Err(addr_error(
            input,
            "the :: must expand to at least one field of zeros",
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::AttributePath;

    fn err(input: &str) -> String {
        match parse(input) {
            Ok(u) => panic!("{input:?} parsed as {u:?}"),
            Err(e) => e,
        }
    }

    fn round_trip(input: &str) -> String {
        match parse(input) {
            Ok(u) => u.to_string(),
            Err(e) => panic!("{input:?}: {e}"),
        }
    }

    #[test]
    fn accepts_what_go_accepts() {
        for ok in [
            "",
            "https://example.com/icon.svg",
            "/icon/code.svg",
            "icon.svg",
            "./a/b",
            "file:///tmp/x",
            "ftp://ftp.example.com/x",
            "mailto:someone@example.com",
            "tel:+1-555",
            "data:image/png;base64,iVBORw0KGgo=",
            "http://[::1]:8080/",
            "http://[fe80::1%25en0]/",
            "http://user:pa%20ss@host/",
            "http://host:/",
            "http://a:b:80/",
            "*",
            "#only-fragment",
            "?q=1",
            "//host/path",
            "///triple",
        ] {
            assert!(parse(ok).is_ok(), "{ok:?}: {:?}", parse(ok));
        }
    }

    #[test]
    fn bad_escape_in_path() {
        assert_eq!(
            err("/icon%.svg"),
            r#"parse "/icon%.svg": invalid URL escape "%.s""#
        );
        assert_eq!(err("/a%4"), r#"parse "/a%4": invalid URL escape "%4""#);
        assert_eq!(err("/a%"), r#"parse "/a%": invalid URL escape "%""#);
    }

    #[test]
    fn space_in_host() {
        assert_eq!(
            err("https://exa mple.com/x"),
            r#"parse "https://exa mple.com/x": invalid character " " in host name"#
        );
    }

    #[test]
    fn unclosed_ipv6_bracket() {
        assert_eq!(
            err("http://[::1/x"),
            r#"parse "http://[::1/x": missing ']' in host"#
        );
    }

    #[test]
    fn control_characters() {
        assert_eq!(
            err("https://example.com/\x7f"),
            r#"parse "https://example.com/\x7f": net/url: invalid control character in URL"#
        );
        assert_eq!(
            err("a\nb"),
            r#"parse "a\nb": net/url: invalid control character in URL"#
        );
    }

    #[test]
    fn missing_scheme_and_colon_in_first_segment() {
        assert_eq!(err(":foo"), r#"parse ":foo": missing protocol scheme"#);
        assert_eq!(
            err("1http://x"),
            r#"parse "1http://x": first path segment in URL cannot contain colon"#
        );
        assert_eq!(
            err("a_b:c/d"),
            r#"parse "a_b:c/d": first path segment in URL cannot contain colon"#
        );
    }

    #[test]
    fn bad_ports() {
        assert_eq!(
            err("http://host:abc/"),
            r#"parse "http://host:abc/": invalid port ":abc" after host"#
        );
        assert_eq!(
            err("http://[::1]x/"),
            r#"parse "http://[::1]x/": invalid port "x" after host"#
        );
    }

    #[test]
    fn bracketed_hosts_must_be_ipv6() {
        assert_eq!(
            err("http://[1.2.3.4]/"),
            r#"parse "http://[1.2.3.4]/": invalid IP-literal"#
        );
        assert_eq!(
            err("http://[foo]/"),
            r#"parse "http://[foo]/": invalid host: ParseAddr("foo"): unable to parse IP"#
        );
        assert_eq!(
            err("http://[::1::2]/"),
            r#"parse "http://[::1::2]/": invalid host: ParseAddr("::1::2"): multiple :: in address (at ":2")"#
        );
        assert_eq!(
            err("http://a[::1]/"),
            r#"parse "http://a[::1]/": invalid IP-literal"#
        );
    }

    #[test]
    fn host_escapes_only_for_non_ascii() {
        assert_eq!(
            err("http://ex%41mple.com/"),
            r#"parse "http://ex%41mple.com/": invalid URL escape "%41""#
        );
        assert_eq!(
            round_trip("http://%C3%A9xample.com/"),
            "http://%C3%A9xample.com/"
        );
    }

    #[test]
    fn userinfo_rules() {
        assert_eq!(
            err("http://us er@host/"),
            r#"parse "http://us er@host/": net/url: invalid userinfo"#
        );
        assert_eq!(
            round_trip("http://a%40b:p%3Aw@host/"),
            "http://a%40b:p%3Aw@host/"
        );
    }

    #[test]
    fn bad_fragment_quotes_whole_input() {
        assert_eq!(
            err("/x#a%zz"),
            r#"parse "/x#a%zz": invalid URL escape "%zz""#
        );
        // The part before `#` is what Go quotes for every other error.
        assert_eq!(
            err("/x%zz#frag"),
            r#"parse "/x%zz": invalid URL escape "%zz""#
        );
    }

    #[test]
    fn string_reserialises_like_go() {
        for (input, want) in [
            ("https://example.com", "https://example.com"),
            ("https://example.com/", "https://example.com/"),
            (
                "HTTPS://Example.com:8080/a b?q=1#f g",
                "https://Example.com:8080/a%20b?q=1#f%20g",
            ),
            ("http://", "http:"),
            ("http:/path", "http:/path"),
            ("mailto:x@y", "mailto:x@y"),
            ("/a%2Fb", "/a%2Fb"),
            ("/a%41", "/a%41"),
            ("/a%7e", "/a%7e"),
            ("/a~", "/a~"),
            ("/x?", "/x?"),
            ("//host", "//host"),
            ("a/b", "a/b"),
            ("./a:b", "./a:b"),
            ("http://[::1]:80/", "http://[::1]:80/"),
            ("#frag", "#frag"),
        ] {
            assert_eq!(round_trip(input), want, "{input:?}");
        }
    }

    #[test]
    fn ports() {
        let port = |s: &str| parse(s).map(|u| u.port()).unwrap_or_default();
        assert_eq!(port("https://example.com:8080/x"), "8080");
        assert_eq!(port("https://example.com"), "");
        assert_eq!(port("http://host:/"), "");
        assert_eq!(port("http://[::1]:9000"), "9000");
        assert_eq!(port("http://[::1]"), "");
        assert_eq!(
            parse("http://[::1]:9000")
                .map(|u| u.hostname())
                .ok()
                .as_deref(),
            Some("::1")
        );
    }

    #[test]
    fn resolve_root_keeps_only_the_origin() {
        let root = |s: &str| {
            parse(s)
                .map(|u| u.resolve_root().to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            root("https://example.com:8080"),
            "https://example.com:8080/"
        );
        assert_eq!(
            root("https://example.com/some/path?q=1#f"),
            "https://example.com/"
        );
        assert_eq!(root("http://u:p@host/x"), "http://u:p@host/");
        assert_eq!(root("relative/path"), "/");
    }

    #[test]
    fn validator_reports_the_parse_error_at_the_attribute() {
        let path = AttributePath::root().attr("icon");
        let v = validator();
        assert!(v.check(&Value::string(""), &path).is_empty());
        assert!(v.check(&Value::string("/icon/x.svg"), &path).is_empty());
        let diags = v.check(&Value::string("/icon%.svg"), &path);
        assert_eq!(diags.len(), 1);
        assert_eq!(
            diags[0].summary,
            r#"parse "/icon%.svg": invalid URL escape "%.s""#
        );
        assert_eq!(diags[0].path.as_ref(), Some(&path));
        assert_eq!(
            v.check(&Value::bool(true), &path)[0].summary,
            r#"expected "icon" to be a string"#
        );
    }
}

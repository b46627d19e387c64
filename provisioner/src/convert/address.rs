//! Terraform resource addresses: the graph label of an address and its module path.

use super::text::go_quote;

/// The label `terraform graph` uses for a resource: the address without instance keys.
/// Everything from the first `[` on is cut, as upstream does
/// (`module.x.aws_instance.dev[0]` → `module.x.aws_instance.dev`).
pub(crate) fn label_of(address: &str) -> &str {
    address.split_once('[').map_or(address, |(head, _)| head)
}

/// The module path of a resource address (`module.a["k"].module.b[0]`), empty for the
/// root module; `None` when the address does not follow the grammar
/// `(module.NAME[INDEX]? ".")* TYPE "." NAME [INDEX]?`. Data-source addresses (`data.x.y`)
/// do not follow it either; the converter never asks for theirs.
///
/// Instance keys are re-rendered the way upstream's address library prints them: integers
/// as `[3]`, strings as Go-quoted `["key"]`.
pub(crate) fn module_path(address: &str) -> Option<String> {
    let mut p = Cursor {
        s: address.as_bytes(),
        text: address,
        pos: 0,
    };
    let mut modules = Vec::new();
    // The module steps repeat greedily and are never given back, like the PEG grammar
    // upstream parses with: `module.a.b` is not read as resource type `module`.
    loop {
        let save = p.pos;
        if let Some(step) = p.module_step() {
            if p.eat(b'.') {
                modules.push(step);
                continue;
            }
        }
        p.pos = save;
        break;
    }
    p.identifier()?;
    if !p.eat(b'.') {
        return None;
    }
    p.identifier()?;
    if p.peek() == Some(b'[') {
        p.index()?;
    }
    if p.pos != p.s.len() {
        return None;
    }
    Some(modules.join("."))
}

struct Cursor<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `module.NAME` plus an optional index, rendered back as text.
    fn module_step(&mut self) -> Option<String> {
        if !self.s[self.pos..].starts_with(b"module.") {
            return None;
        }
        self.pos += "module.".len();
        let name = self.identifier()?;
        let mut step = format!("module.{name}");
        if self.peek() == Some(b'[') {
            step.push_str(&self.index()?);
        }
        Some(step)
    }

    /// Letters, digits, `_` and `-`, not starting with a digit.
    fn identifier(&mut self) -> Option<&str> {
        let start = self.pos;
        match self.peek() {
            Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b'-' => self.pos += 1,
            _ => return None,
        }
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.text.get(start..self.pos)
    }

    /// `[123]`, `[-1]` or `["key"]`, returned in canonical form.
    fn index(&mut self) -> Option<String> {
        if !self.eat(b'[') {
            return None;
        }
        let rendered = if self.peek() == Some(b'"') {
            format!("[{}]", go_quote(&self.string()?))
        } else {
            let start = self.pos;
            self.eat(b'-');
            let digits = self.pos;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
            if self.pos == digits {
                return None;
            }
            let n: i64 = self.text.get(start..self.pos)?.parse().ok()?;
            format!("[{n}]")
        };
        if !self.eat(b']') {
            return None;
        }
        Some(rendered)
    }

    /// A JSON-style string literal: raw control characters, `"` and `\` must be escaped;
    /// escapes are `\" \\ \/ \b \f \n \r \t \uXXXX`.
    fn string(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let mut out = String::new();
        let rest = self.text.get(self.pos..)?;
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Some(out);
                }
                '\\' => {
                    let (_, e) = chars.next()?;
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let mut code = 0u32;
                            for _ in 0..4 {
                                let (_, h) = chars.next()?;
                                code = code * 16 + h.to_digit(16)?;
                            }
                            out.push(char::from_u32(code)?);
                        }
                        _ => return None,
                    }
                }
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_drop_instance_keys() {
        assert_eq!(label_of("null_resource.a"), "null_resource.a");
        assert_eq!(
            label_of("module.ec2_dev.ec2_instance.dev[0]"),
            "module.ec2_dev.ec2_instance.dev"
        );
        assert_eq!(label_of(r#"coder_app.apps["app1"]"#), "coder_app.apps");
        // Upstream cuts at the first bracket, also inside a module key.
        assert_eq!(label_of(r#"module.m["x"].null_resource.a"#), "module.m");
    }

    #[test]
    fn module_paths() {
        assert_eq!(module_path("null_resource.a").as_deref(), Some(""));
        assert_eq!(module_path("null_resource.a[3]").as_deref(), Some(""));
        assert_eq!(
            module_path("module.module.null_resource.example").as_deref(),
            Some("module.module")
        );
        assert_eq!(
            module_path(r#"module.a["k\"q"].module.b[0].aws_instance.dev[-1]"#).as_deref(),
            Some(r#"module.a["k\"q"].module.b[0]"#)
        );
        assert_eq!(
            module_path(r#"module.a["\u0041\/"].x.y"#).as_deref(),
            Some(r#"module.a["A/"]"#)
        );
    }

    #[test]
    fn invalid_addresses() {
        for bad in [
            "invalid",
            "",
            "a.b.c",
            "data.coder_parameter.x",
            "module.a.b",
            "1a.b",
            "a.b[",
            "a.b[x]",
            "a.b[\"unterminated]",
            "a.b[0]x",
            "module..a.b",
        ] {
            assert_eq!(module_path(bad), None, "{bad}");
        }
    }
}

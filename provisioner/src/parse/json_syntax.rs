//! HCL's JSON syntax (`*.tf.json`), read with serde_json.
//!
//! What the parse step needs from a JSON file is its object structure with positions (to order
//! variables by line and to point diagnostics at them) and with repeated keys kept (HCL's JSON
//! syntax allows `"variable"` twice in one object). serde_json's `RawValue` borrows each value's
//! exact text from the input, so a value's position is its offset in the source, and a small
//! map visitor keeps every key/value pair in order.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::diagnostics::Diagnostic;
use super::syntax::line_of;

/// One JSON value of a file: where it starts, and what it is.
pub struct JsonNode<'a> {
    pub offset: usize,
    pub kind: JsonKind<'a>,
}

pub enum JsonKind<'a> {
    Object(Vec<(String, &'a RawValue)>),
    Array(Vec<&'a RawValue>),
    /// A string, number, bool or null (read where it is used).
    Scalar,
}

/// A parsed `.tf.json` file.
pub struct JsonFile {
    pub src: String,
}

impl JsonFile {
    /// The line of a value that was read from this file.
    pub fn line(&self, raw: &RawValue) -> usize {
        line_of(self.src.as_bytes(), self.offset(raw))
    }

    pub fn offset(&self, raw: &RawValue) -> usize {
        // `RawValue` borrows from `src`, so the difference of the two addresses is the offset.
        (raw.get().as_ptr() as usize).saturating_sub(self.src.as_ptr() as usize)
    }

    pub fn root(&self) -> Result<&RawValue, serde_json::Error> {
        serde_json::from_str(&self.src)
    }

    /// Reads one level of `raw`: an object's entries, an array's items, or a scalar.
    pub fn node<'a>(&self, raw: &'a RawValue) -> Result<JsonNode<'a>, serde_json::Error> {
        let text = raw.get();
        let kind = match text.as_bytes().first() {
            Some(b'{') => JsonKind::Object(serde_json::from_str::<Entries<'a>>(text)?.0),
            Some(b'[') => JsonKind::Array(serde_json::from_str::<Items<'a>>(text)?.0),
            _ => JsonKind::Scalar,
        };
        Ok(JsonNode {
            offset: self.offset(raw),
            kind,
        })
    }
}

/// Parses a `.tf.json` file, reporting malformed JSON at its line.
pub fn parse_json(filename: &str, bytes: &[u8]) -> Result<JsonFile, Vec<Diagnostic>> {
    let src = match std::str::from_utf8(bytes) {
        Ok(src) => src.to_string(),
        Err(err) => {
            return Err(vec![Diagnostic::error(
                "Invalid character encoding",
                "All input files must be UTF-8 encoded. Ensure that UTF-8 encoding is selected \
                 in your editor.",
            )
            .at(filename, line_of(bytes, err.valid_up_to()))]);
        }
    };
    let file = JsonFile { src };
    // Validate the whole document once, so later reads of sub-values cannot fail on syntax.
    if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(&file.src) {
        return Err(vec![json_syntax_error(filename, &err)]);
    }
    match file.root().and_then(|root| file.node(root)) {
        Ok(JsonNode {
            kind: JsonKind::Object(_),
            ..
        }) => Ok(file),
        Ok(node) => Err(vec![Diagnostic::error(
            "Root value must be object",
            "The root value in a JSON-based configuration must be a JSON object.",
        )
        .at(filename, line_of(file.src.as_bytes(), node.offset))]),
        Err(err) => Err(vec![json_syntax_error(filename, &err)]),
    }
}

pub fn json_syntax_error(filename: &str, err: &serde_json::Error) -> Diagnostic {
    // serde_json appends " at line L column C"; the line goes into the position instead.
    let text = err.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    let mut chars = message.chars();
    let detail = match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    };
    Diagnostic::error("Invalid JSON syntax", detail).at(filename, err.line().max(1))
}

/// An object's entries in source order, repeated keys included.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for EntriesVisitor<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

/// An array's items.
struct Items<'a>(Vec<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Items<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ItemsVisitor<'a> {
            type Value = Items<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(Items(items))
            }
        }
        deserializer.deserialize_seq(ItemsVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_repeated_keys_and_their_lines() {
        let src = "{\n  \"variable\": {\"a\": {}},\n  \"variable\": {\"b\": {}}\n}";
        let file = parse_json("main.tf.json", src.as_bytes()).expect("parses");
        let root = file.root().expect("root");
        let JsonKind::Object(entries) = file.node(root).expect("node").kind else {
            panic!("root is an object")
        };
        let lines: Vec<_> = entries
            .iter()
            .map(|(k, v)| (k.as_str(), file.line(v)))
            .collect();
        assert_eq!(lines, vec![("variable", 2), ("variable", 3)]);
    }

    #[test]
    fn malformed_json_names_file_and_line() {
        let Err(diags) = parse_json("main.tf.json", b"{\n  \"variable\": {,}\n}") else {
            panic!("expected an error")
        };
        assert_eq!(diags[0].summary, "Invalid JSON syntax");
        assert_eq!(diags[0].pos.as_ref().map(|p| p.line), Some(2));
    }

    #[test]
    fn root_must_be_an_object() {
        let Err(diags) = parse_json("main.tf.json", b"[1]") else {
            panic!("expected an error")
        };
        assert_eq!(diags[0].summary, "Root value must be object");
    }
}

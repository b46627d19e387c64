//! Attribute paths: where inside a value something is. The steps mirror the plugin protocol's
//! `AttributePath.Step` (`attribute_name`, `element_key_string`, `element_key_int`), so a path
//! converts one-to-one into a diagnostic's path.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute (or a nested block type, which is an attribute of its block).
    Attr(String),
    /// A map element.
    Key(String),
    /// A list or tuple element; for sets, the position in which the element was received.
    Index(i64),
}

/// A path from the root of a value. The empty path is the root itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    pub fn root() -> Self {
        AttributePath(Vec::new())
    }

    pub fn attr(mut self, name: impl Into<String>) -> Self {
        self.0.push(PathStep::Attr(name.into()));
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.0.push(PathStep::Key(key.into()));
        self
    }

    pub fn index(mut self, index: i64) -> Self {
        self.0.push(PathStep::Index(index));
        self
    }

    /// A new path one step below this one, leaving `self` alone (handy while walking a value).
    pub fn child(&self, step: PathStep) -> Self {
        let mut steps = Vec::with_capacity(self.0.len() + 1);
        steps.extend_from_slice(&self.0);
        steps.push(step);
        AttributePath(steps)
    }

    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }

    pub fn pop(&mut self) -> Option<PathStep> {
        self.0.pop()
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    pub fn last(&self) -> Option<&PathStep> {
        self.0.last()
    }

    /// The path without its last step; the root's parent is the root.
    pub fn parent(&self) -> AttributePath {
        let mut steps = self.0.clone();
        steps.pop();
        AttributePath(steps)
    }

    /// The terraform-plugin-sdk (SDKv2) flat form, `resources_monitoring.0.memory`: every step
    /// joined by dots. Upstream error texts quote attributes this way, so messages that must
    /// match them word for word use this form.
    pub fn flat_key(&self) -> String {
        let mut out = String::new();
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            match step {
                PathStep::Attr(name) | PathStep::Key(name) => out.push_str(name),
                PathStep::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> Self {
        AttributePath(steps)
    }
}

/// Terraform's rendering (`tfdiags.FormatCtyPath`), minus the leading dot it puts before a
/// first attribute: `resources_monitoring[0].memory`, `env["HOME"]`. The root renders as "".
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => f.write_str(name)?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{}]", Quoted(key))?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A double-quoted string with the escapes Go's `strconv.Quote` uses for the characters that
/// matter in a path (quotes, backslashes, control characters).
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_terraform() {
        let p = AttributePath::root()
            .attr("resources_monitoring")
            .index(0)
            .attr("memory");
        assert_eq!(p.to_string(), "resources_monitoring[0].memory");
        assert_eq!(
            AttributePath::root().attr("env").key("HOME").to_string(),
            r#"env["HOME"]"#
        );
        assert_eq!(AttributePath::root().to_string(), "");
    }

    #[test]
    fn map_keys_are_quoted_with_escapes() {
        let p = AttributePath::root().attr("m").key("a\"b\\c\n");
        assert_eq!(p.to_string(), r#"m["a\"b\\c\n"]"#);
    }

    #[test]
    fn flat_key_is_the_sdkv2_form() {
        let p = AttributePath::root()
            .attr("resources_monitoring")
            .index(0)
            .attr("memory");
        assert_eq!(p.flat_key(), "resources_monitoring.0.memory");
        assert_eq!(
            AttributePath::root().attr("env").key("HOME").flat_key(),
            "env.HOME"
        );
    }

    #[test]
    fn parent_and_child() {
        let p = AttributePath::root().attr("a");
        let c = p.child(PathStep::Index(3));
        assert_eq!(c.to_string(), "a[3]");
        assert_eq!(c.parent(), p);
        assert_eq!(AttributePath::root().parent(), AttributePath::root());
        assert_eq!(c.last(), Some(&PathStep::Index(3)));
    }
}

//! Errors from the value layer. Every variant says *where* (an [`AttributePath`], empty for the
//! root) and *what* (a lower-case message in go-cty's wording where one exists, so that texts
//! users may already know from Terraform keep their shape).

use std::fmt;

use super::path::AttributePath;

/// Renders `path: message`, or just `message` when the problem is at the root.
struct At<'a>(&'a AttributePath, &'a str);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_root() {
            f.write_str(self.1)
        } else {
            write!(f, "{}: {}", self.0, self.1)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CtyError {
    /// A type description (go-cty type JSON) that names no type we know or is badly shaped.
    #[error("{}", At(.path, .message))]
    InvalidType {
        path: AttributePath,
        message: String,
    },
    /// Bytes that are not well-formed msgpack or JSON: truncated, bad UTF-8, trailing data.
    #[error("{}", At(.path, .message))]
    Malformed {
        path: AttributePath,
        message: String,
    },
    /// Well-formed data whose shape does not fit the type: wrong kind, missing or extra
    /// attributes, wrong tuple length; also a [`Value`](super::Value) that does not conform to
    /// the type it is being encoded as.
    #[error("{}", At(.path, .message))]
    Mismatch {
        path: AttributePath,
        message: String,
    },
    /// Text that is not a number, NaN, or a number whose exponent is beyond
    /// [`MAX_DECIMAL_EXPONENT`](super::MAX_DECIMAL_EXPONENT).
    #[error("{}", At(.path, .message))]
    InvalidNumber {
        path: AttributePath,
        message: String,
    },
    /// An unknown value where the format has no way to say "unknown" (JSON).
    #[error("{}", At(.path, .message))]
    UnknownValue {
        path: AttributePath,
        message: String,
    },
    /// Nesting deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    #[error("{}", At(.path, .message))]
    TooDeep {
        path: AttributePath,
        message: String,
    },
}

impl CtyError {
    pub fn invalid_type(path: &AttributePath, message: impl Into<String>) -> Self {
        CtyError::InvalidType {
            path: path.clone(),
            message: message.into(),
        }
    }

    pub fn malformed(path: &AttributePath, message: impl Into<String>) -> Self {
        CtyError::Malformed {
            path: path.clone(),
            message: message.into(),
        }
    }

    pub fn mismatch(path: &AttributePath, message: impl Into<String>) -> Self {
        CtyError::Mismatch {
            path: path.clone(),
            message: message.into(),
        }
    }

    pub fn invalid_number(path: &AttributePath, message: impl Into<String>) -> Self {
        CtyError::InvalidNumber {
            path: path.clone(),
            message: message.into(),
        }
    }

    pub fn unknown_value(path: &AttributePath, message: impl Into<String>) -> Self {
        CtyError::UnknownValue {
            path: path.clone(),
            message: message.into(),
        }
    }

    pub fn too_deep(path: &AttributePath) -> Self {
        CtyError::TooDeep {
            path: path.clone(),
            message: format!("nesting deeper than {} levels", super::MAX_DEPTH),
        }
    }

    /// Where the problem is.
    pub fn path(&self) -> &AttributePath {
        match self {
            CtyError::InvalidType { path, .. }
            | CtyError::Malformed { path, .. }
            | CtyError::Mismatch { path, .. }
            | CtyError::InvalidNumber { path, .. }
            | CtyError::UnknownValue { path, .. }
            | CtyError::TooDeep { path, .. } => path,
        }
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        match self {
            CtyError::InvalidType { message, .. }
            | CtyError::Malformed { message, .. }
            | CtyError::Mismatch { message, .. }
            | CtyError::InvalidNumber { message, .. }
            | CtyError::UnknownValue { message, .. }
            | CtyError::TooDeep { message, .. } => message,
        }
    }

    /// The same error re-anchored at `path`: errors raised by path-less helpers (number
    /// parsing, type JSON) get the position of the value being decoded.
    pub fn at(mut self, at: &AttributePath) -> Self {
        match &mut self {
            CtyError::InvalidType { path, .. }
            | CtyError::Malformed { path, .. }
            | CtyError::Mismatch { path, .. }
            | CtyError::InvalidNumber { path, .. }
            | CtyError::UnknownValue { path, .. }
            | CtyError::TooDeep { path, .. } => *path = at.clone(),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prefixes_the_path_unless_at_root() {
        let root = CtyError::mismatch(&AttributePath::root(), "an object is required");
        assert_eq!(root.to_string(), "an object is required");

        let deep = CtyError::mismatch(
            &AttributePath::root()
                .attr("resources_monitoring")
                .index(0)
                .attr("memory"),
            "number is required",
        );
        assert_eq!(
            deep.to_string(),
            "resources_monitoring[0].memory: number is required"
        );
        assert_eq!(deep.message(), "number is required");
    }

    #[test]
    fn at_replaces_the_path() {
        let e = CtyError::invalid_number(&AttributePath::root(), "not a number")
            .at(&AttributePath::root().attr("n"));
        assert_eq!(e.path(), &AttributePath::root().attr("n"));
        assert_eq!(e.to_string(), "n: not a number");
    }
}

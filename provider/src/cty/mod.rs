//! Terraform's value model (go-cty's, as the plugin protocol carries it): [`Type`]s, [`Value`]s
//! that are known, unknown or null at any depth, [`AttributePath`]s into them, and the two wire
//! codecs, [`msgpack`] (what Terraform speaks) and [`json`] (what state files and
//! `UpgradeResourceState` carry).
//!
//! Nothing here knows about providers, schemas or gRPC: a codec takes a type and bytes and
//! gives back a value, or an error that says where and what.
//!
//! Numbers are exact decimals ([`Number`]); see that type for the canonical text form.
//! Nesting is capped at [`MAX_DEPTH`] levels in every codec so that hostile or corrupt input
//! cannot exhaust the stack.

mod error;
pub mod json;
pub mod msgpack;
mod number;
mod path;
mod ty;
mod value;

#[cfg(test)]
mod proptests;

pub use error::CtyError;
pub use number::{Number, MAX_DECIMAL_EXPONENT};
pub use path::{AttributePath, PathStep};
pub use ty::Type;
pub use value::Value;

/// How deeply values and types may nest (collections, objects, dynamic wrappers) before a
/// codec gives up with [`CtyError::TooDeep`]. Real schemas stay under ten levels; 128 is also
/// serde_json's own recursion limit, so JSON input could not nest deeper anyway. The cap keeps
/// the worst case well inside a 2 MiB thread stack (tokio's default) even in debug builds.
pub const MAX_DEPTH: usize = 128;

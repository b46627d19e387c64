//! Schema model, diagnostics, validators and the generic plan/apply rules. Nothing here knows
//! about Coder; the `coder_*` types are written against this module.

pub mod diag;
pub mod docs;
pub mod framework;
pub mod model;
pub mod plan;
pub mod server;
pub mod upgrade;
pub mod validators;
pub mod walk;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use framework::{DataSource, Framework, ProviderDefinition, Resource};
pub use model::{Attribute, Block, NestedBlock, Nesting, Schema, Validator};
pub use server::{ProviderSchemas, ProviderServer, RawState};

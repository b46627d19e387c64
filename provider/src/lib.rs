//! `terraform-provider-coder`: the Coder Terraform provider.
//!
//! Layers, bottom up (each knows nothing about the ones above it):
//! - [`cty`]: Terraform's value model (types, known/unknown/null values, paths, msgpack and JSON codecs);
//! - [`schema`]: schema model, diagnostics, validators and the generic plan/apply rules;
//! - [`plugin`]: go-plugin handshake, AutoMTLS, gRPC services and the tfplugin5/6 adapters;
//! - [`go`]: the Go library behaviour upstream's users see (`net/url`, `encoding/json`, `strconv`,
//!   `regexp`, ...), with Go's error texts;
//! - [`provider`], [`resources`] and [`data_sources`]: the Coder provider, one file per `coder_*` type.

pub mod cty;
pub mod data_sources;
pub mod docs;
pub mod env;
pub mod go;
pub mod plugin;
pub mod provider;
pub mod resources;
pub mod schema;

//! Generated protobuf messages and gRPC services; no hand-written logic lives here.
//!
//! - [`tfplugin6`] / [`tfplugin5`]: Terraform plugin protocol 6.10 / 5.10 as shipped
//!   with Terraform v1.15 (service `Provider`, plus `Provisioner` in v5).
//! - [`plugin`]: hashicorp/go-plugin's `GRPCBroker`, `GRPCController` and `GRPCStdio`,
//!   which a plugin process serves next to the provider service.
//! - `provisioner`: Coder's provisioner API, present when `proto/provisioner.proto` is.
//!
//! Every `.proto` file under `proto/` is compiled by `build.rs` with protox. Servers
//! are generated with default stubs, so an RPC a server does not implement answers
//! `UNIMPLEMENTED`.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// go-plugin's own services; the package name `plugin` is part of the wire names
/// (`plugin.GRPCController/Shutdown`, ...).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

#[cfg(has_provisioner_proto)]
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod provisioner {
    tonic::include_proto!("provisioner");
}

/// Encoded `google.protobuf.FileDescriptorSet` of every compiled `.proto` (and the
/// well-known types they import), without source info; e.g. for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/file_descriptor_set.bin"));

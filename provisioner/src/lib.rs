//! `coder-provisioner`: Coder's Terraform provisioner.
//!
//! - [`parse`]: a template's HCL `variable` blocks → template variables (admin/user parameters);
//! - [`convert`]: Terraform plan/state JSON plus `terraform graph` DOT → resources, agents, apps;
//! - [`terraform`]: finding and running Terraform (init, plan, apply, show, graph), its
//!   environment, logs and cancellation;
//! - [`session`]: one provisioner session (Config, then Parse / Init / Plan / Graph / Apply /
//!   Cancel requests), independent of the transport;
//! - [`server`]: the gRPC `Provisioner` service over TCP or a unix socket;
//! - [`cli`]: the `coder-provisioner` command line.

pub mod cli;
pub mod convert;
pub mod parse;
pub mod server;
pub mod session;
pub mod terraform;

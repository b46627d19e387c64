//! `coder-provisioner`: Coder's Terraform provisioner.
//!
//! - [`parse`]: a template's HCL `variable` blocks → template variables (admin/user parameters);
//! - [`convert`]: Terraform plan/state JSON plus `terraform graph` DOT → resources, agents, apps;
//! - [`terraform`]: finding and running Terraform (init, plan, apply, show, graph), its
//!   environment, logs and cancellation;
//! - [`session`]: one provisioner session (Config, then Parse / Init / Plan / Graph / Apply /
//!   Cancel requests), independent of the transport;
//! - [`secrets`]: what no log line may show (tokens, sensitive variables, masked parameters),
//!   and its removal;
//! - [`server`]: the gRPC `Provisioner` service over TCP or a unix socket;
//! - [`validate`]: offline checks of a template before it is published (static checks on the
//!   HCL, plus a start/stop dry run when Terraform can initialise it);
//! - [`examples`]: the example templates embedded in the binary, for `init`;
//! - [`cli`]: the `coder-provisioner` command line.

pub mod cli;
pub mod convert;
pub mod examples;
pub mod parse;
pub mod secrets;
pub mod server;
pub mod session;
pub mod terraform;
pub mod validate;

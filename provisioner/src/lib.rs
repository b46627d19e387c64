//! `coder-provisioner`: Coder's Terraform provisioner.
//!
//! - [`parse`]: a template's HCL `variable` blocks → template variables (admin/user parameters);
//! - [`convert`]: Terraform plan/state JSON plus `terraform graph` DOT → resources, agents, apps.

pub mod convert;
pub mod parse;

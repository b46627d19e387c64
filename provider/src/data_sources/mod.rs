//! Data source types, one file each.

pub mod external_auth;
pub mod git_auth;
pub mod parameter;
pub mod provisioner;
pub mod secret;
pub mod task;
pub mod workspace;
pub mod workspace_owner;
pub mod workspace_preset;
pub mod workspace_tags;

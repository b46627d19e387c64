//! Running Terraform for a build (coder-provisioner.md §3): finding the binary, the
//! per-session work directory, unpacking the template archive, the environment, the
//! commands themselves, turning their output into logs, and cancellation.
//!
//! Nothing here knows about the session protocol beyond the prost message types it reads
//! (metadata, variable values) and produces (logs, timings, modules).

pub mod agent_scripts;
pub mod archive;
pub mod binary;
pub mod env;
pub mod executor;
pub mod logs;
pub mod modules;
pub mod process;
pub mod state;
pub mod timings;
pub mod workdir;

pub use archive::{extract as extract_archive, ArchiveError, MAX_FILE_SIZE};
pub use binary::{locate, BinaryError, TerraformBinary, Version, MIN_VERSION};
pub use env::{build_env, BuildInputs, Environment};
pub use executor::{
    ExecError, Executor, TerraformOptions, DEFAULT_EXIT_TIMEOUT, PLAN_FILE, STATE_FILE,
};
pub use logs::LogSink;
pub use modules::{archive_module_files, ModuleFiles, MAX_MODULE_ARCHIVE_SIZE};
pub use state::{check_state, StateError};
pub use workdir::{SessionDir, WorkRoot};

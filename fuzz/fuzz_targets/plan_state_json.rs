#![no_main]

// Each target uses one of the shared checks.
#[allow(dead_code)]
#[path = "../checks/provisioner.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::plan_state_json(data));

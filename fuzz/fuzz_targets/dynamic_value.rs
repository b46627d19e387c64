#![no_main]

// Each target uses one of the shared checks.
#[allow(dead_code)]
#[path = "../checks/provider.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::dynamic_value(data));

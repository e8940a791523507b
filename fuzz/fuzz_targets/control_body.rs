#![no_main]
//! `cargo +nightly fuzz run control_body`: see `at7600_fuzz::control_body`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| at7600_fuzz::control_body(data));

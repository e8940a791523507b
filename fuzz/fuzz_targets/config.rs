#![no_main]
//! `cargo +nightly fuzz run config`: see `at7600_fuzz::config`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| at7600_fuzz::config(data));

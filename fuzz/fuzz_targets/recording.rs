#![no_main]
//! `cargo +nightly fuzz run recording`: see `at7600_fuzz::recording`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| at7600_fuzz::recording(data));

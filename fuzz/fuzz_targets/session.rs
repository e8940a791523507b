#![no_main]
//! `cargo +nightly fuzz run session`: see `at7600_fuzz::session::session`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| at7600_fuzz::session::session(data));

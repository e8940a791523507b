#![no_main]
//! `cargo +nightly fuzz run line_parser`: see `at7600_fuzz::line_parser`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| at7600_fuzz::line_parser(data));

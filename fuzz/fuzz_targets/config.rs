//! `.kgate.yaml`, as read from the repository under check.
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    let _ = kgate::config::Config::parse(Path::new(".kgate.yaml"), &text);
});

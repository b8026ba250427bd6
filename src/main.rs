//! The `kgate` binary: a thin shell over the library (see `src/lib.rs`).

mod cli;

use std::process::ExitCode;

#[cfg(target_os = "linux")]
unsafe extern "C" {
    fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
}

/// Turns transparent huge pages off for this process. mimalloc reserves its first arena
/// before `main` runs and asks for huge pages there, so the kernel zeroes a whole 2 MiB page
/// on the first touch of any of it: ~11% of a whole gate's CPU went to `clear_page_erms`
/// (perf, 200-app monorepo), for memory mostly never used. The arena is reserved before any
/// mimalloc option could be set; the process flag is checked at every page fault instead.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    const PR_SET_THP_DISABLE: std::ffi::c_int = 41;
    // SAFETY: prctl with an integer option and integer arguments; a failure leaves THP on.
    unsafe {
        prctl(
            PR_SET_THP_DISABLE,
            1 as std::ffi::c_ulong,
            0 as std::ffi::c_ulong,
            0 as std::ffi::c_ulong,
            0 as std::ffi::c_ulong,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    // regorus reports errors through `anyhow`, which captures a backtrace for every error
    // when RUST_BACKTRACE is set (as many CI images do): 15% of the gate's time. kgate never
    // shows those backtraces, so library backtraces are off unless asked for explicitly.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first statement of `main`, before any thread exists.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    // The one report std makes itself is a failed allocation ("memory allocation of N bytes
    // failed", then abort), with a Rust backtrace when RUST_BACKTRACE is set. std reads the
    // variable once, at its first use, so turning it off here keeps a backtrace out of a CI
    // log even then. (Policy memory is bounded before it is allocated: src/policy/budget.rs.)
    // SAFETY: as above, still before any thread exists.
    unsafe { std::env::set_var("RUST_BACKTRACE", "0") };
    // A bug must not show users a Rust backtrace; say what happened and exit 2.
    std::panic::set_hook(Box::new(|info| {
        // A panic inside the policy engine is caught and becomes a `policy-error` finding.
        if kgate::policy::in_guarded_evaluation() {
            return;
        }
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("kgate: internal error{at}: {msg}\nThis is a bug in kgate; please report it.");
    }));
    match std::panic::catch_unwind(cli::run) {
        Ok(code) => code,
        Err(_) => ExitCode::from(cli::EXIT_USAGE),
    }
}

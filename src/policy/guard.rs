//! A panic inside regorus becomes an evaluation error of the rule, not the end of the run.
//!
//! regorus 0.14 panics on some inputs a repository's policy controls (`sprintf("%٣d",
//! [1])`: a Unicode digit in a width is `expect`ed to be ASCII), and a panic on a worker
//! thread ended the whole check with no report. Every `eval_rule` goes through [`eval_rule`],
//! which catches the panic and returns it as an [`EnginePanic`]; the rule is then reported
//! once as a `policy-error` and not evaluated again (its engine's state is not trusted).

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// An engine of this thread panicked: its interpreter keeps the rules that were being
    /// evaluated as active (regorus resets the rest of its state per evaluation, not that),
    /// so it would report every later evaluation of them as cyclic. Its owner replaces it.
    static POISONED: Cell<bool> = const { Cell::new(false) };
}

/// Whether an engine of this thread panicked and has not been replaced yet.
pub(crate) fn poisoned() -> bool {
    POISONED.with(Cell::get)
}

/// Whether an engine panicked since the last call (and so must be replaced).
pub(crate) fn take_poisoned() -> bool {
    POISONED.with(|p| p.replace(false))
}

/// regorus panicked while evaluating a rule.
#[derive(Debug, thiserror::Error)]
#[error("the policy engine failed on this rule: {0}")]
pub struct EnginePanic(String);

/// Whether this thread is evaluating a rule under [`eval_rule`]: a panic here is caught and
/// reported as a finding, so the binary's panic hook stays quiet about it.
pub fn in_guarded_evaluation() -> bool {
    GUARDED.with(Cell::get)
}

/// `engine.eval_rule(path)`, with a panic turned into an [`EnginePanic`] error.
pub(crate) fn eval_rule(
    engine: &mut regorus::Engine,
    path: String,
) -> anyhow::Result<regorus::Value> {
    let outer = GUARDED.with(|g| g.replace(true));
    // The engine is not used again after a panic for the same rule (the rule is tripped),
    // and the caller's other state is not touched by evaluation: unwind-safe in practice.
    let result = catch_unwind(AssertUnwindSafe(|| engine.eval_rule(path)));
    GUARDED.with(|g| g.set(outer));
    result.unwrap_or_else(|payload| {
        POISONED.with(|p| p.set(true));
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        Err(EnginePanic(message).into())
    })
}

/// The deepest nesting of `[` and `{` a policy may have. regorus' parser tries a
/// comprehension before a literal at each bracket and starts over on failure, so its time
/// grows exponentially with the depth (~1.7x per level: 20 levels took 15 s, 25 did not end),
/// before any time limit applies. Real policies nest a handful of levels.
pub(crate) const MAX_BRACKET_DEPTH: usize = 16;

/// Refuses a policy whose brackets nest deeper than [`MAX_BRACKET_DEPTH`], outside strings
/// and comments.
pub(crate) fn check_nesting(text: &str) -> Result<(), String> {
    let (mut depth, mut deepest, mut line) = (0usize, 0usize, 1usize);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            // A comment, to the end of the line.
            '#' if chars.by_ref().any(|c| c == '\n') => line += 1,
            '#' => {}
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        '\n' => break,
                        _ => escaped = false,
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    match c {
                        '`' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH && deepest <= MAX_BRACKET_DEPTH {
                    return Err(format!(
                        "line {line}: brackets nest deeper than {MAX_BRACKET_DEPTH} levels (the Rego parser would take exponential time)"
                    ));
                }
                deepest = deepest.max(depth);
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn deep_brackets_are_refused_before_regorus_parses_them() {
        let deep = |n: usize| format!("package p\n\nx := {}{}\n", "[".repeat(n), "]".repeat(n));
        assert!(super::check_nesting(&deep(16)).is_ok());
        let e = super::check_nesting(&deep(17)).unwrap_err();
        assert!(e.starts_with("line 3: "), "{e}");
        // Brackets in strings, raw strings and comments do not count.
        let quoted = format!(
            "package p\n# {}\nx := \"{}\"\ny := `{}`\n",
            "[".repeat(40),
            "{".repeat(40),
            "[\n".repeat(40)
        );
        assert!(super::check_nesting(&quoted).is_ok());
    }

    #[test]
    fn a_panic_in_the_engine_is_an_error() {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(
                "p.rego".to_owned(),
                "package p\n\nx := sprintf(\"%\u{663}d\", [1])\n".to_owned(),
            )
            .unwrap();
        let e = super::eval_rule(&mut engine, "data.p.x".to_owned()).unwrap_err();
        assert!(e.downcast_ref::<super::EnginePanic>().is_some(), "{e}");
        assert!(!super::in_guarded_evaluation());
        assert!(super::take_poisoned());
        assert!(!super::take_poisoned());
    }
}

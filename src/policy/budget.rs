//! The memory budget checked *before* a builtin makes one large allocation.
//!
//! regorus (with `allocator-memory-limits`) counts every allocation in its global
//! allocator, but only compares the count with `limits.policyMemory` between evaluation
//! steps. A builtin whose output size comes from a number rather than from data already in
//! memory allocates it in one step: `numbers.range(1, 200000000)` asks for 4.8 GB at once
//! (`Vec::with_capacity`). When the system refuses, Rust calls `handle_alloc_error`, which
//! aborts the process on stable Rust (the hook that could turn it into a panic,
//! `set_alloc_error_hook` / `-Zoom=panic`, is nightly-only), and a global allocator may not
//! fail in any other way (it must not unwind, and regorus already installs the one
//! allocator a program may have). So the size is checked before the allocation instead:
//! kgate replaces those builtins with extensions (regorus looks extensions up before its
//! builtins) that compute what they would allocate and refuse past the budget left, with
//! a `memory limit` error that becomes a `policy-error` finding.

use regorus::Value;

/// The builtins replaced here, with their number of arguments.
pub(super) fn install(engine: &mut regorus::Engine) {
    // `add_extension` fails only when the name is taken, which a fresh engine cannot have;
    // if it ever did, regorus' own builtin would stay, which is still correct Rego.
    let _ = engine.add_extension("numbers.range".to_owned(), 2, Box::new(range));
    let _ = engine.add_extension("numbers.range_step".to_owned(), 3, Box::new(range_step));
}

/// Replaces `sprintf` with the checked version. That one formats through a second engine,
/// about a tenth of the built-in library's evaluation time, so it is installed only where
/// some policy may pad to a width ([`needs_sprintf_guard`]).
pub(super) fn install_sprintf(engine: &mut regorus::Engine) {
    let _ = engine.add_extension("sprintf".to_owned(), 2, Box::new(sprintf));
}

/// Whether Rego `text` calls `sprintf` with a format that is not a string literal, or with a
/// literal that pads (a width or precision) or that regorus cannot read. Conservative: a
/// false "needs" only costs speed.
pub(super) fn needs_sprintf_guard(text: &str) -> bool {
    text.match_indices("sprintf(").any(|(i, m)| {
        let rest = text[i + m.len()..].trim_start();
        let Some(body) = rest.strip_prefix('"') else {
            return true;
        };
        let mut literal = String::new();
        let mut chars = body.chars();
        loop {
            match chars.next() {
                None => return true,
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some(c) => {
                        literal.push('\\');
                        literal.push(c);
                    }
                    None => return true,
                },
                Some(c) => literal.push(c),
            }
        }
        !matches!(format_padding(&literal), Ok(0))
    })
}

/// Bytes left before `limits.policyMemory`, process-wide as regorus counts them.
fn remaining() -> u64 {
    match regorus::global_memory_limit() {
        Some(limit) => {
            // The snapshot also publishes this thread's pending count, so a burst of this
            // thread's own allocations is not missed.
            let (global, _) = regorus_mimalloc::allocation_stats_snapshot();
            limit.saturating_sub(global.allocated)
        }
        None => u64::MAX,
    }
}

/// Refuses `count` values of `name`'s result unless they fit in a quarter of the budget
/// left: regorus does not check the budget while a comprehension copies an array (a body
/// of only `some x in xs` runs no checked step per element), and the copy's last doubling
/// needs about three times the source; a quarter keeps source and copy within the budget.
fn reserve(name: &str, count: u128) -> anyhow::Result<usize> {
    reserve_bytes(
        name,
        count.saturating_mul(std::mem::size_of::<Value>() as u128),
    )?;
    usize::try_from(count).map_err(|_| anyhow::anyhow!("execution exceeded memory limit"))
}

/// Refuses `bytes` of `name`'s result unless they fit in a quarter of the budget left.
fn reserve_bytes(name: &str, bytes: u128) -> anyhow::Result<()> {
    let left = remaining();
    if bytes > u128::from(left / 4) {
        anyhow::bail!(
            "execution exceeded memory limit: `{name}` would allocate {bytes} bytes, more than a quarter of the {left} bytes left (limits.policyMemory)"
        );
    }
    Ok(())
}

/// An integer argument; `None` for a number with a fraction (the result is then
/// undefined, as regorus' own builtin makes it outside strict mode).
fn integer(name: &str, v: &Value) -> anyhow::Result<Option<i128>> {
    match v {
        Value::Number(n) if !n.is_integer() => Ok(None),
        Value::Number(n) => match n.as_i128() {
            Some(i) => Ok(Some(i)),
            // An integer beyond i128 makes a range no memory can hold.
            None => {
                anyhow::bail!("execution exceeded memory limit: `{name}` bound {v} is out of range")
            }
        },
        _ => anyhow::bail!("`{name}` expects numeric argument. Got `{v}` instead"),
    }
}

/// `numbers.range(a, b)`: the integers from `a` to `b`, both included, in either direction.
fn range(args: Vec<Value>) -> anyhow::Result<Value> {
    const NAME: &str = "numbers.range";
    let (Some(a), Some(b)) = (integer(NAME, &args[0])?, integer(NAME, &args[1])?) else {
        return Ok(Value::Undefined);
    };
    let step = if b >= a { 1 } else { -1 };
    items(NAME, a, b, step)
}

/// `numbers.range_step(a, b, step)`: from `a` towards `b` by `step` (positive), `b`
/// included when reached.
fn range_step(args: Vec<Value>) -> anyhow::Result<Value> {
    const NAME: &str = "numbers.range_step";
    let (Some(a), Some(b)) = (integer(NAME, &args[0])?, integer(NAME, &args[1])?) else {
        return Ok(Value::Undefined);
    };
    let step = match integer(NAME, &args[2]) {
        Ok(Some(s)) if s > 0 => s,
        _ => anyhow::bail!("`{NAME}`: step must be a positive integer"),
    };
    items(NAME, a, b, if b >= a { step } else { -step })
}

/// `sprintf(format, values)`, after checking what the format's widths and precisions would
/// allocate: regorus pads to a width in one allocation (`sprintf("%2000000000d", [1])` is
/// 2 GB at once), and panics on a width whose digits are not ASCII (`%٣d`). The formatting
/// itself is regorus' own builtin, evaluated in a plain engine of this thread (this one
/// replaces it in kgate's engines), so the output is exactly OPA's as regorus implements it.
fn sprintf(args: Vec<Value>) -> anyhow::Result<Value> {
    if let Value::String(format) = &args[0] {
        reserve_bytes("sprintf", u128::from(format_padding(format)?))?;
    }
    thread_local! {
        static PLAIN: std::cell::RefCell<Option<regorus::Engine>> = const { std::cell::RefCell::new(None) };
    }
    PLAIN.with(|plain| {
        let mut plain = plain.borrow_mut();
        let engine = match &mut *plain {
            Some(engine) => engine,
            None => {
                let mut engine = regorus::Engine::new();
                engine.add_policy(
                    "kgate-sprintf.rego".to_owned(),
                    "package kgate_sprintf\n\nout := sprintf(input[0], input[1])\n".to_owned(),
                )?;
                plain.insert(engine)
            }
        };
        engine.set_input(Value::from(args));
        engine.eval_rule("data.kgate_sprintf.out".to_owned())
    })
}

/// The bytes the widths and precisions of `format` pad to (`%08d`, `%.3f`, `%10s`), or an
/// error for a width regorus cannot read: digits that are not ASCII, or a number past
/// `u32::MAX` (its width is a `u32`, which overflows).
fn format_padding(format: &str) -> anyhow::Result<u64> {
    let mut total = 0u64;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        // regorus reads a width as the characters after `%` that are numeric (in Unicode's
        // sense), starting with a digit or `.`.
        match chars.peek() {
            Some('%') => {
                chars.next();
                continue;
            }
            Some(&c) if c == '.' || c.is_numeric() => {}
            _ => continue,
        }
        let mut width = 0u64;
        if let Some('.') = chars.peek() {
            chars.next();
        }
        while let Some(&d) = chars.peek().filter(|d| d.is_numeric()) {
            let Some(digit) = d.to_digit(10) else {
                anyhow::bail!("`sprintf`: the width in {format:?} is not a number");
            };
            width = width.saturating_mul(10).saturating_add(u64::from(digit));
            if width > u64::from(u32::MAX) {
                anyhow::bail!("execution exceeded memory limit: `sprintf` width in {format:?}");
            }
            chars.next();
        }
        total = total.saturating_add(width);
    }
    Ok(total)
}

/// The array `a, a + step, ...` up to `b`, after checking its size against the budget.
fn items(name: &str, a: i128, b: i128, step: i128) -> anyhow::Result<Value> {
    let Some(span) = b.checked_sub(a) else {
        anyhow::bail!("execution exceeded memory limit: `{name}` from {a} to {b} is out of range");
    };
    let n = reserve(name, (span / step).unsigned_abs() + 1)?;
    let mut values = Vec::with_capacity(n);
    let mut v = a;
    for _ in 0..n {
        values.push(number(v));
        // Saturating: the step past the last item may overflow, and is never used.
        v = v.saturating_add(step);
    }
    Ok(Value::from(values))
}

fn number(v: i128) -> Value {
    match i64::try_from(v) {
        Ok(i) => Value::from(i),
        Err(_) => Value::from(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_formats_without_widths_need_no_guard() {
        assert!(!needs_sprintf_guard(
            r#"msg := sprintf("%s runs as %v", [a, b])"#
        ));
        assert!(!needs_sprintf_guard(
            r#"msg := sprintf( "a \"%s\" b", [a])"#
        ));
        assert!(needs_sprintf_guard(
            r#"msg := sprintf("%2000000000d", [1])"#
        ));
        assert!(needs_sprintf_guard(r#"msg := sprintf(fmt, [1])"#));
        assert!(needs_sprintf_guard("msg := sprintf(`%5d`, [1])"));
        let builtin = crate::policy::builtin_sources();
        assert!(!builtin.iter().any(|s| needs_sprintf_guard(&s.text)));
    }

    fn eval(query: &str) -> anyhow::Result<Value> {
        let mut engine = regorus::Engine::new();
        install(&mut engine);
        install_sprintf(&mut engine);
        let r = engine.eval_query(query.to_owned(), false)?;
        Ok(r.result
            .first()
            .and_then(|r| r.expressions.first())
            .map(|e| e.value.clone())
            .unwrap_or(Value::Undefined))
    }

    fn json(query: &str) -> String {
        eval(query)
            .unwrap()
            .to_json_str()
            .unwrap()
            .replace([' ', '\n'], "")
    }

    #[test]
    fn ranges_match_opa() {
        assert_eq!(json("numbers.range(1, 4)"), "[1,2,3,4]");
        assert_eq!(json("numbers.range(2, -1)"), "[2,1,0,-1]");
        assert_eq!(json("numbers.range(3, 3)"), "[3]");
        assert_eq!(json("numbers.range_step(0, 10, 3)"), "[0,3,6,9]");
        assert_eq!(json("numbers.range_step(10, 0, 3)"), "[10,7,4,1]");
        assert_eq!(json("numbers.range_step(0, 9, 3)"), "[0,3,6,9]");
        assert!(matches!(
            eval("numbers.range(1.5, 3)").unwrap(),
            Value::Undefined
        ));
        assert!(eval("numbers.range_step(0, 10, 0)").is_err());
        assert!(eval("numbers.range(\"a\", 3)").is_err());
    }

    #[test]
    fn sprintf_is_regorus_own_after_the_check() {
        assert_eq!(
            json("sprintf(\"%05d|%s|%.2f|%%|%v\", [42, \"x\", 3.14159, [1]])"),
            "\"00042|x|3.14|%|[1]\""
        );
        // A width in digits regorus' builtin cannot read (it panicked).
        assert!(eval("sprintf(\"%\u{663}d\", [1])").is_err());
        assert_eq!(super::format_padding("%10d %.5f %%5 %x").unwrap(), 15);
    }

    /// Without the pre-check, regorus' own builtin asks the allocator for 24 * 10^18 bytes
    /// at once, and the process aborts. (No limit is set here: the limit is process-wide and
    /// other tests run in this process; no budget at all still refuses more bytes than
    /// exist, so this checks the pre-check itself. tests/conftest.rs checks the configured
    /// limit end to end.)
    #[test]
    fn a_range_past_the_budget_is_refused_before_it_is_allocated() {
        let e = eval("numbers.range(0, 1000000000000000000)").unwrap_err();
        let e2 =
            eval("numbers.range_step(0, 1000000000000000000000000000000000000000, 1)").unwrap_err();
        assert!(e.to_string().contains("memory limit"), "{e}");
        assert!(e2.to_string().contains("memory limit"), "{e2}");
        let e3 = eval("sprintf(\"%4000000000000000000d\", [1])").unwrap_err();
        assert!(e3.to_string().contains("memory limit"), "{e3}");
        let edge = "numbers.range(170141183460469231731687303715884105726, 170141183460469231731687303715884105727)";
        assert_eq!(eval(edge).unwrap().as_array().unwrap().len(), 2);
    }
}

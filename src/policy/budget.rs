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

/// Replaces the builtins whose output can be far larger than their arguments *in memory*,
/// because regorus shares values instead of copying them: an array of a million references
/// to one 1 MB string costs 16 MB, its `concat` 1 TB; twenty nested arrays of two references
/// each cost a few hundred bytes, their `json.marshal` megabytes per level. Each is done in
/// one builtin call, so regorus' between-steps check never sees it. The replacements compute
/// the output's size first (bounded by the budget, so the count itself stays cheap), refuse
/// past a quarter of what is left, then do what regorus does. Installed for repository
/// policies and Gatekeeper templates that name them ([`needs_expansion_guard`]).
pub(super) fn install_expanders(engine: &mut regorus::Engine) {
    let _ = engine.add_extension("concat".to_owned(), 2, Box::new(concat));
    let _ = engine.add_extension("json.marshal".to_owned(), 1, Box::new(json_marshal));
    let _ = engine.add_extension("yaml.marshal".to_owned(), 1, Box::new(yaml_marshal));
    let _ = engine.add_extension("replace".to_owned(), 3, Box::new(replace));
    let _ = engine.add_extension("strings.replace_n".to_owned(), 2, Box::new(replace_n));
}

/// Whether Rego `text` may call one of the builtins [`install_expanders`] replaces.
pub(super) fn needs_expansion_guard(text: &str) -> bool {
    ["concat(", "marshal(", "replace(", "replace_n("]
        .iter()
        .any(|name| text.contains(name))
}

/// `concat(delimiter, strings)`, an array or a set.
fn concat(args: Vec<Value>) -> anyhow::Result<Value> {
    const NAME: &str = "concat";
    let Value::String(delimiter) = &args[0] else {
        anyhow::bail!("`{NAME}` expects string argument.");
    };
    let items: Vec<&Value> = match &args[1] {
        Value::Array(a) => a.iter().collect(),
        Value::Set(s) => s.iter().collect(),
        _ => anyhow::bail!("`{NAME}` expects array/set of strings."),
    };
    let mut strings = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(s) = item else {
            anyhow::bail!("`{NAME}` expects array/set of strings.");
        };
        strings.push(s.as_ref());
    }
    let bytes = strings.iter().map(|s| s.len() as u128).sum::<u128>()
        + (delimiter.len() as u128) * (strings.len().saturating_sub(1) as u128);
    reserve_bytes(NAME, bytes)?;
    Ok(Value::from(strings.join(delimiter)))
}

/// An upper bound of what `json.marshal` (`yaml: false`) or `yaml.marshal` writes for a
/// value, computed from its structure: a node shared by reference is sized once (per
/// nesting depth, which YAML's indentation depends on), so twenty nested pairs of
/// references cost twenty steps, not a million.
struct Sizer {
    yaml: bool,
    memo: std::collections::HashMap<(usize, u32), u128>,
}

impl Sizer {
    fn new(yaml: bool) -> Sizer {
        Sizer {
            yaml,
            memo: std::collections::HashMap::new(),
        }
    }

    fn size(&mut self, v: &Value, depth: u32) -> u128 {
        // YAML writes each entry on its own line, indented, with its marker (`- `, `: `).
        let line = if self.yaml {
            2 * u128::from(depth) + 4
        } else {
            1
        };
        let depth = if self.yaml { depth } else { 0 };
        let key = |p: *const u8| (p as usize, depth);
        match v {
            Value::String(s) => escaped_len(s) + line,
            Value::Array(a) => self.memo(key(std::ptr::from_ref(&**a).cast()), |me| {
                a.iter().map(|x| me.size(x, depth + 1) + line).sum()
            }),
            Value::Set(set) => self.memo(key(std::ptr::from_ref(&**set).cast()), |me| {
                set.iter().map(|x| me.size(x, depth + 1) + line).sum()
            }),
            Value::Object(o) => self.memo(key(std::ptr::from_ref(&**o).cast()), |me| {
                o.iter()
                    .map(|(k, x)| me.size(k, depth) + me.size(x, depth + 1) + line)
                    .sum()
            }),
            other => serde_json::to_string(other).map_or(8, |t| t.len() as u128) + line,
        }
    }

    fn memo(&mut self, key: (usize, u32), compute: impl FnOnce(&mut Sizer) -> u128) -> u128 {
        if let Some(&n) = self.memo.get(&key) {
            return n;
        }
        // Brackets (or a flow `[]`/`{}` for an empty one).
        let n = compute(self).saturating_add(2);
        self.memo.insert(key, n);
        n
    }
}

/// The bytes of `s` as a JSON string: quotes, and escapes of at most six bytes.
fn escaped_len(s: &str) -> u128 {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<u128>()
}

fn json_marshal(args: Vec<Value>) -> anyhow::Result<Value> {
    reserve_bytes("json.marshal", Sizer::new(false).size(&args[0], 0))?;
    let text = serde_json::to_string(&args[0])
        .map_err(|e| anyhow::anyhow!("could not serialize to json\nCaused by\n{e}"))?;
    Ok(Value::from(text))
}

fn yaml_marshal(args: Vec<Value>) -> anyhow::Result<Value> {
    reserve_bytes("yaml.marshal", Sizer::new(true).size(&args[0], 0))?;
    let text = yaml_serde::to_string(&args[0])
        .map_err(|e| anyhow::anyhow!("could not serialize to yaml: {e}"))?;
    Ok(Value::from(text))
}

/// The length of `s` with every `old` replaced by `new`, as `str::replace` does it (an
/// empty `old` matches at every character boundary).
fn replaced_len(s: &str, old: &str, new: &str) -> u128 {
    let (count, removed) = if old.is_empty() {
        (s.chars().count() as u128 + 1, 0)
    } else {
        let n = s.matches(old).count() as u128;
        (n, n * old.len() as u128)
    };
    s.len() as u128 - removed + count * new.len() as u128
}

/// `replace(s, old, new)`.
fn replace(args: Vec<Value>) -> anyhow::Result<Value> {
    const NAME: &str = "replace";
    let (Value::String(s), Value::String(old), Value::String(new)) = (&args[0], &args[1], &args[2])
    else {
        anyhow::bail!("`{NAME}` expects string argument.");
    };
    reserve_bytes(NAME, replaced_len(s, old, new))?;
    Ok(Value::from(s.replace(old.as_ref(), new.as_ref())))
}

/// `strings.replace_n(patterns, s)`: each pattern in key order, one after the other, as
/// regorus does it; each step checked before it allocates.
fn replace_n(args: Vec<Value>) -> anyhow::Result<Value> {
    const NAME: &str = "strings.replace_n";
    let (Value::Object(patterns), Value::String(s)) = (&args[0], &args[1]) else {
        anyhow::bail!("`{NAME}` expects an object of patterns and a string.");
    };
    let mut out: String = s.to_string();
    for (k, v) in patterns.iter() {
        let (Value::String(old), Value::String(new)) = (k, v) else {
            anyhow::bail!("`{NAME}` expects string keys and values in pattern object.");
        };
        reserve_bytes(NAME, replaced_len(&out, old, new))?;
        out = out.replace(old.as_ref(), new.as_ref());
    }
    Ok(Value::from(out))
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
        eval_with(query, install_sprintf)
    }

    /// `query` in an engine with the checked ranges and `extra`'s replacements.
    fn eval_with(query: &str, extra: fn(&mut regorus::Engine)) -> anyhow::Result<Value> {
        let mut engine = regorus::Engine::new();
        install(&mut engine);
        extra(&mut engine);
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

    fn eval_guarded(query: &str) -> anyhow::Result<Value> {
        eval_with(query, install_expanders)
    }

    /// The replacements give what regorus' own builtins give, on ordinary arguments.
    #[test]
    fn expanders_match_regorus() {
        let queries = [
            r#"concat(", ", ["a", "b", "c"])"#,
            r#"concat("-", {"b", "a"})"#,
            r#"concat("", [])"#,
            r#"json.marshal({"a": [1, "x", null, true], "b": {"c": 1.5}})"#,
            r#"yaml.marshal({"a": [1, "x"], "b": {"c": "d: e"}})"#,
            r#"replace("a.b.c", ".", "::")"#,
            r#"replace("abc", "", "-")"#,
            r#"strings.replace_n({"a": "b", "b": "c"}, "aabb")"#,
        ];
        for q in queries {
            let plain = regorus::Engine::new()
                .eval_query(q.to_owned(), false)
                .unwrap()
                .result[0]
                .expressions[0]
                .value
                .clone();
            assert_eq!(eval_guarded(q).unwrap(), plain, "{q}");
        }
        assert!(eval_guarded(r#"concat(",", [1])"#).is_err());
        assert!(eval_guarded(r#"replace(1, "a", "b")"#).is_err());
    }

    /// Shared values make outputs far larger than the memory they take: 2^70 bytes of
    /// JSON or YAML from seventy nested pairs of references is refused before regorus
    /// would write it, and sized in seventy steps. (No budget is set in unit tests, the
    /// limit being process-wide, so only what no memory holds is refused here;
    /// tests/conftest.rs checks `concat` and `replace` under the default budget.)
    #[test]
    fn shared_values_are_sized_once_and_refused() {
        let nested = "x0 := [\"abcdefgh\"]\n".to_owned()
            + &(1..=70)
                .map(|i| format!("x{i} := [x{}, x{}]\n", i - 1, i - 1))
                .collect::<String>();
        let mut engine = regorus::Engine::new();
        install_expanders(&mut engine);
        engine
            .add_policy("n.rego".to_owned(), format!("package n\n{nested}"))
            .unwrap();
        for builtin in ["json.marshal", "yaml.marshal"] {
            let e = engine
                .eval_query(format!("{builtin}(data.n.x70)"), false)
                .unwrap_err();
            assert!(e.to_string().contains("memory limit"), "{builtin}: {e}");
        }
        // The bound holds on ordinary values, JSON and YAML.
        let v: Value = serde_json::from_str::<serde_json::Value>(
            r#"{"a": [1, "x\ny", null, {"b": [true, 2.5]}], "c": {}, "d": [], "e": "q\"uote"}"#,
        )
        .unwrap()
        .into();
        let json = serde_json::to_string(&v).unwrap().len() as u128;
        let yaml = yaml_serde::to_string(&v).unwrap().len() as u128;
        assert!(Sizer::new(false).size(&v, 0) >= json);
        assert!(Sizer::new(true).size(&v, 0) >= yaml);
        assert!(Sizer::new(false).size(&v, 0) < 3 * json);
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

//! OPA's deprecated built-ins, which regorus does not have but Gatekeeper still runs and old
//! conftest policies still call (`re_match`, `any`, `all`, `set_diff`, `cast_array`,
//! `cast_set`). Without them a template of the Gatekeeper library fails on every object it
//! is evaluated on. Semantics follow OPA's `v0` definitions.

use anyhow::{Result, anyhow, bail};
use regorus::Value;

fn one(args: &[Value], name: &str) -> Result<Value> {
    match args {
        [a] => Ok(a.clone()),
        _ => bail!("{name} expects 1 argument, got {}", args.len()),
    }
}

/// The elements of an array or a set.
fn elements(v: &Value, name: &str) -> Result<Vec<Value>> {
    match v {
        Value::Array(a) => Ok(a.iter().cloned().collect()),
        Value::Set(s) => Ok(s.iter().cloned().collect()),
        _ => bail!("{name}: operand must be an array or a set"),
    }
}

thread_local! {
    /// Compiled `re_match` patterns: a template calls it with the same few patterns on every
    /// object.
    static PATTERNS: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn regex_match(pattern: &str, value: &str) -> Result<bool> {
    PATTERNS.with(|p| {
        let mut cache = p.borrow_mut();
        if let Some(re) = cache.get(pattern) {
            return Ok(re.is_match(value));
        }
        let re = regex::Regex::new(pattern).map_err(|e| anyhow!("re_match: {e}"))?;
        let matched = re.is_match(value);
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), re);
        Ok(matched)
    })
}

/// Registers the deprecated built-ins on `engine`.
pub fn add_deprecated_builtins(engine: &mut regorus::Engine) -> Result<()> {
    engine.add_extension(
        "re_match".to_owned(),
        2,
        Box::new(|args: Vec<Value>| {
            let [pattern, value] = args.as_slice() else {
                bail!("re_match expects 2 arguments");
            };
            let pattern = pattern
                .as_string()
                .map_err(|_| anyhow!("re_match: pattern must be a string"))?;
            let value = value
                .as_string()
                .map_err(|_| anyhow!("re_match: value must be a string"))?;
            let matched = regex_match(pattern, value)?;
            Ok(Value::from(matched))
        }),
    )?;
    engine.add_extension(
        "any".to_owned(),
        1,
        Box::new(|args: Vec<Value>| {
            let items = elements(&one(&args, "any")?, "any")?;
            Ok(Value::from(items.contains(&Value::Bool(true))))
        }),
    )?;
    engine.add_extension(
        "all".to_owned(),
        1,
        Box::new(|args: Vec<Value>| {
            let items = elements(&one(&args, "all")?, "all")?;
            Ok(Value::from(items.iter().all(|v| *v == Value::Bool(true))))
        }),
    )?;
    engine.add_extension(
        "set_diff".to_owned(),
        2,
        Box::new(|args: Vec<Value>| {
            let [Value::Set(a), Value::Set(b)] = args.as_slice() else {
                bail!("set_diff: operands must be sets");
            };
            let diff: std::collections::BTreeSet<Value> =
                a.iter().filter(|v| !b.contains(v)).cloned().collect();
            Ok(Value::from(diff))
        }),
    )?;
    engine.add_extension(
        "cast_array".to_owned(),
        1,
        Box::new(|args: Vec<Value>| {
            Ok(Value::from(elements(
                &one(&args, "cast_array")?,
                "cast_array",
            )?))
        }),
    )?;
    engine.add_extension(
        "cast_set".to_owned(),
        1,
        Box::new(|args: Vec<Value>| {
            let items = elements(&one(&args, "cast_set")?, "cast_set")?;
            Ok(Value::from(
                items
                    .into_iter()
                    .collect::<std::collections::BTreeSet<Value>>(),
            ))
        }),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    fn eval(rego: &str) -> serde_json::Value {
        let mut engine = crate::policy::new_engine();
        engine
            .add_policy("t.rego".to_owned(), format!("package t\n{rego}"))
            .expect("policy");
        let v = engine.eval_rule("data.t.x".to_owned()).expect("eval");
        serde_json::from_str(&v.to_json_str().expect("json")).expect("json")
    }

    #[test]
    fn deprecated_builtins_behave_as_in_opa() {
        assert_eq!(eval("x := re_match(\"^a+b$\", \"aab\")"), true);
        assert_eq!(eval("x := re_match(\"^a+b$\", \"ba\")"), false);
        assert_eq!(eval("x := any([false, true])"), true);
        assert_eq!(eval("x := any(set())"), false);
        assert_eq!(eval("x := all([true, true])"), true);
        assert_eq!(eval("x := all({true, false})"), false);
        assert_eq!(eval("x := all([])"), true);
        assert_eq!(
            eval("x := set_diff({1, 2, 3}, {2})"),
            serde_json::json!([1, 3])
        );
        assert_eq!(eval("x := cast_set([2, 1, 2])"), serde_json::json!([1, 2]));
        assert_eq!(eval("x := cast_array({1})"), serde_json::json!([1]));
    }
}

//! Runs `*_test.rego` files the way `opa test` does: every rule named `test_*` in a test
//! file must evaluate to `true`, with all policy files loaded beside it.

use super::{PolicyError, PolicySource, add_policy, is_test_file, new_engine};

/// The outcome of one `test_*` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test file, e.g. `policies/images/image-latest-tag_test.rego`.
    pub file: String,
    pub name: String,
    pub outcome: TestOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutcome {
    Pass,
    /// The rule was undefined or not `true`.
    Fail,
    Error(String),
}

/// Names of the `test_*` rules a test file defines, in file order, without duplicates.
fn test_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in text.lines() {
        if !line.starts_with("test_") {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Runs every test file in `sources` against all non-test files in `sources`.
pub fn run_tests(sources: &[PolicySource]) -> Result<Vec<TestResult>, PolicyError> {
    let mut base = new_engine();
    super::budget::install_sprintf(&mut base);
    for src in sources.iter().filter(|s| !is_test_file(&s.path)) {
        add_policy(&mut base, src)?;
    }
    let mut results = Vec::new();
    for test in sources.iter().filter(|s| is_test_file(&s.path)) {
        let mut engine = base.clone();
        let package = add_policy(&mut engine, test)?;
        for name in test_names(&test.text) {
            let outcome = match super::guard::eval_rule(&mut engine, format!("{package}.{name}")) {
                Ok(regorus::Value::Bool(true)) => TestOutcome::Pass,
                Ok(_) => TestOutcome::Fail,
                Err(e) => TestOutcome::Error(e.to_string()),
            };
            results.push(TestResult {
                file: test.path.clone(),
                name,
                outcome,
            });
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_test_rules() {
        assert_eq!(
            test_names(
                "package x\ntest_a if true\ntest_b if {\n}\n  test_not_top := 1\ntest_a if false\n"
            ),
            ["test_a", "test_b"]
        );
    }

    #[test]
    fn failing_and_passing_tests_are_told_apart() {
        let sources = vec![
            PolicySource {
                path: "p/a.rego".into(),
                text: "package a\nallow if input.ok == true\n".into(),
            },
            PolicySource {
                path: "p/a_test.rego".into(),
                text: "package a_test\nimport data.a\ntest_pass if a.allow with input as {\"ok\": true}\ntest_fail if a.allow with input as {\"ok\": false}\n".into(),
            },
        ];
        let r = run_tests(&sources).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].outcome, TestOutcome::Pass);
        assert_eq!(r[1].outcome, TestOutcome::Fail);
    }
}

//! Repository-scope rules (`custom.scope: repo`): the repository's graph at once, as `input`
//! (see `app::repo_input`). They run in regorus' register VM through one generated gather
//! rule, as the root rules do (`root_rules`): in the interpreter, one by one, they were a
//! twentieth of an uncached check. Any VM error, panic or unexpected result sends them to
//! the interpreter, rule by rule, which reports errors as it always did.

use super::{
    EvalError, Evaluator, PolicyError, PolicyRule, PolicySource, RepoViolation, repo_violations_of,
};
use crate::model::rules::RuleInfo;

const REPO_GATHER_PACKAGE: &str = "kgate_internal.repo_gather";

/// Adds the repository gather module to `modules`: every repository-scope rule's `deny` by
/// its id. Returns the gather's rule path.
pub(super) fn add_repo_gather(
    modules: &mut super::lazy::Modules,
    rules: &[PolicyRule],
) -> Result<String, PolicyError> {
    let mut text = format!("package {REPO_GATHER_PACKAGE}\n\nall := {{\n");
    for r in rules.iter().filter(|r| r.info.repo_scope) {
        text.push_str(&format!("\t{:?}: {},\n", r.info.id, r.query));
    }
    text.push_str("}\n");
    modules.add(&PolicySource {
        path: "kgate-repo-gather.rego".to_owned(),
        text,
    })?;
    Ok(format!("data.{REPO_GATHER_PACKAGE}.all"))
}

impl Evaluator {
    /// Runs the repository-scope rules (`custom.scope: repo`) once on `repo` (the repository
    /// graph as `app::repo_input` builds it): a violation names the file or directory it
    /// concerns (`file`, relative to the scanned root) and optionally a `line`.
    pub fn evaluate_repo(
        &mut self,
        repo: &serde_json::Value,
        context: &serde_json::Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<Result<RepoViolation, EvalError>> {
        let repo = super::value::rego_value(repo);
        let results = match self.run_repo_compiled(&repo, context, &enabled) {
            Some(results) => results,
            None => self.run_scoped(|r| r.repo_scope, &repo, context, enabled),
        };
        super::results::all_violations(results, repo_violations_of)
    }

    /// The `deny` of each enabled repository-scope rule on `input` from the gather in the
    /// VM; `None` when there is no program, a rule was stopped (the gather holds it), or the
    /// VM fails.
    fn run_repo_compiled(
        &mut self,
        input: &regorus::Value,
        context: &serde_json::Value,
        enabled: &impl Fn(&str) -> bool,
    ) -> Option<Vec<(String, Result<regorus::Value, EvalError>)>> {
        let (program, entry) = self.repo.clone()?;
        // Run once per check: the VM is made here, not with every evaluator.
        let mut vm = super::compiled::Vm::new(program, self.limits.0, self.limits.1);
        let scoped = |r: &RuleInfo| r.repo_scope;
        self.run_gather(&mut vm, (&entry, input), context, scoped, enabled)
    }
}

#[cfg(test)]
mod tests {
    use super::super::PolicySet;
    use serde_json::{Value, json};

    /// A repository graph touching every built-in repository rule, with findings for most.
    fn repo() -> Value {
        let edge = |from: &str, to: &str, line: u64| {
            json!({"from": from, "to": to, "kind": "resource",
                "file": format!("{from}/kustomization.yaml"), "line": line, "column": 3})
        };
        json!({
            "environments": ["dev", "prod"],
            "apps": [
                {"name": "web", "path": "apps/web", "base": "apps/web/base",
                    "overlays": {"dev": "apps/web/overlays/dev", "qa": "apps/web/overlays/qa"},
                    "clusters": ["clusters/dev"]},
                {"name": "api", "path": "apps/api", "base": "apps/api/base",
                    "overlays": {"prod": "apps/api/overlays/prod"}, "clusters": []},
            ],
            "clusters": [
                {"path": "clusters/dev", "file": "clusters/dev/kustomization.yaml",
                    "environment": "dev", "entryPoints": []},
            ],
            "roots": [
                {"id": "apps/web/overlays/dev", "environment": "dev", "usedBy": ["clusters/dev"]},
                {"id": "apps/api/overlays/prod", "environment": "prod", "usedBy": [],
                    "file": "apps/api/overlays/prod/kustomization.yaml"},
                {"id": "clusters/dev", "environment": "dev", "usedBy": []},
            ],
            "entryPoints": [{"id": "argocd/app.yaml", "usedBy": []}],
            "edges": [
                edge("clusters/dev", "apps/web/overlays/dev", 2),
                edge("clusters/dev", "apps/api/overlays/prod", 3),
                edge("apps/web/overlays/dev", "apps/api/base", 4),
            ],
        })
    }

    /// The VM's results are the interpreter's, with and without the rules' parameters, and
    /// with a rule not run.
    #[test]
    fn the_builtin_repository_rules_run_compiled_with_the_interpreters_results() {
        let set = PolicySet::builtin().expect("built-in policies");
        assert!(set.repo_program.is_some(), "the repository rules compile");
        let repo = repo();
        let params = json!({"orphaned-root": {"paths": ["apps/*/overlays/*", "clusters/*"]}});
        for context in [json!({"params": params}), json!({"params": {}})] {
            let mut compiled = set.evaluator();
            let alone = compiled.run_repo_compiled(
                &crate::policy::value::rego_value(&repo),
                &context,
                &|_| true,
            );
            assert!(alone.is_some(), "the VM runs them");
            let mut interpreted = set.evaluator();
            interpreted.repo = None;
            let a = compiled.evaluate_repo(&repo, &context, |_| true);
            let b = interpreted.evaluate_repo(&repo, &context, |_| true);
            assert_eq!(a, b, "{context}");
            assert!(a.len() >= 6, "{a:?}");
            let not_orphans = |id: &str| id != "orphaned-root";
            let a = compiled.evaluate_repo(&repo, &context, not_orphans);
            let b = interpreted.evaluate_repo(&repo, &context, not_orphans);
            assert_eq!(a, b);
            assert!(
                a.iter().flatten().all(|v| v.rule != "orphaned-root"),
                "{a:?}"
            );
        }
    }

    /// A rule that fails at run time sends the rules to the interpreter, which names it.
    #[test]
    fn a_failing_repository_rule_is_reported_by_the_interpreter() {
        let text = "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: my-repo-rule\n#   scope: repo\n#   severity: error\n#   remediation: R\npackage custom.my_repo_rule\ndeny contains {\"msg\": \"m\", \"file\": \"x\"} if { 10 / count(input.apps) > 1 }\n";
        let set = PolicySet::load(&[super::PolicySource {
            path: "policies/custom/my-repo-rule.rego".into(),
            text: text.into(),
        }])
        .expect("loads");
        assert!(set.repo_program.is_some(), "compiled");
        let mut ev = set.evaluator();
        let input = json!({"apps": []});
        let alone = ev.run_repo_compiled(
            &crate::policy::value::rego_value(&input),
            &json!({}),
            &|_| true,
        );
        assert!(alone.is_none(), "the VM fails on the division by zero");
        let out = ev.evaluate_repo(&input, &json!({}), |_| true);
        assert!(
            matches!(out.as_slice(), [Err(e)] if e.rule == "my-repo-rule"),
            "{out:?}"
        );
    }
}

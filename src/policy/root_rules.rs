//! Root-scope rules (`custom.scope: root`): every object of a rendered root at once, as
//! `input.objects`. They run in regorus' register VM like the object rules (`compiled`),
//! through generated gather rules (all of them; those relating objects within a namespace;
//! the others), so the library's shared helpers (`root.pods`, `root.namespaces`) are
//! computed once per root, not once per rule. Any VM error, panic or unexpected result sends
//! the root's rules to the interpreter, rule by rule, which reports errors as it always did.

use std::collections::HashSet;

use super::{
    EvalError, Evaluator, PolicyError, PolicyRule, PolicySource, Violation, violations_of,
};
use crate::model::rules::RuleInfo;

const ROOT_GATHER_PACKAGE: &str = "kgate_internal.root_gather";

/// The generated rules gathering the root-scope rules' `deny`, as rule paths.
pub(super) struct RootGathers {
    /// Every root-scope rule.
    all: String,
    /// The rules with `custom.relatesWithin: namespace`.
    local: String,
    /// The others.
    global: String,
}

impl RootGathers {
    pub(super) fn entries(&self) -> Vec<String> {
        vec![self.all.clone(), self.local.clone(), self.global.clone()]
    }
}

/// Adds the root gather module to `modules`.
pub(super) fn add_root_gathers(
    modules: &mut super::lazy::Modules,
    rules: &[PolicyRule],
) -> Result<RootGathers, PolicyError> {
    let mut text = format!("package {ROOT_GATHER_PACKAGE}\n\n");
    let mut add = |name: &str, keep: fn(&PolicyRule) -> bool| {
        text.push_str(&format!("{name} := {{\n"));
        for r in rules.iter().filter(|r| r.info.root_scope && keep(r)) {
            text.push_str(&format!("\t{:?}: {},\n", r.info.id, r.query));
        }
        text.push_str("}\n");
        format!("data.{ROOT_GATHER_PACKAGE}.{name}")
    };
    let gathers = RootGathers {
        all: add("all", |_| true),
        local: add("local", |r| r.namespace_local),
        global: add("global", |r| !r.namespace_local),
    };
    modules.add(&PolicySource {
        path: "kgate-root-gather.rego".to_owned(),
        text,
    })?;
    Ok(gathers)
}

/// The violations (or errors) of root-scope rules' results.
fn root_violations(
    results: Vec<(String, Result<regorus::Value, EvalError>)>,
) -> Vec<Result<Violation, EvalError>> {
    super::results::all_violations(results, violations_of)
}

/// `{"objects": objects, "subjects": subjects}` as a regorus value (no `subjects` when every
/// object is one). The objects are shared, not copied.
fn objects_input(objects: &[regorus::Value], subjects: Option<&[usize]>) -> regorus::Value {
    let mut input = std::collections::BTreeMap::new();
    input.insert(
        regorus::Value::from("objects"),
        regorus::Value::from(objects.to_vec()),
    );
    if let Some(subjects) = subjects {
        let indexes = subjects.iter().map(|i| regorus::Value::from(*i as u64));
        input.insert(
            regorus::Value::from("subjects"),
            regorus::Value::from(indexes.collect::<Vec<_>>()),
        );
    }
    regorus::Value::from(input)
}

impl Evaluator {
    /// Runs the root-scope rules (`custom.scope: root`) on all objects of a root at once:
    /// `input.objects` is the list, and a violation names the object it concerns by index
    /// (`object`), with a `path` inside that object. With `focus` (the same list, the objects
    /// no finding of interest can depend on replaced by `{}`: see `app::root_focus`), rules
    /// declaring `custom.relatesWithin: namespace` see the focused list instead. With
    /// `subjects` (the indexes of the objects whose findings count, in order), the input
    /// names them as `input.subjects`, and the built-in rules look for findings on those
    /// objects only (`data.kgate.lib.root.subjects`); findings on the others may be left out.
    /// The objects are converted already (`value::rego_value`): `app::roots` shares them
    /// with the object rules.
    pub fn evaluate_root(
        &mut self,
        objects: &[regorus::Value],
        focus: Option<&[regorus::Value]>,
        subjects: Option<&[usize]>,
        context: &serde_json::Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<Result<Violation, EvalError>> {
        let Some(focus) = focus else {
            let input = objects_input(objects, subjects);
            let entry = self.root_gathers.all.clone();
            return root_violations(self.run_root(&entry, &input, context, enabled));
        };
        // Rules that relate objects only within a namespace see the focused list (same
        // indexes, the objects of unrelated namespaces left as `{}`); the others see all.
        let local: HashSet<String> = self
            .rules
            .iter()
            .filter(|r| r.namespace_local)
            .map(|r| r.info.id.clone())
            .collect();
        let is_local = |id: &str| local.contains(id) && enabled(id);
        let mut results = Vec::new();
        if self.any_root_rule(is_local) {
            let entry = self.root_gathers.local.clone();
            results = self.run_root(&entry, &objects_input(focus, subjects), context, is_local);
        }
        let is_global = |id: &str| !local.contains(id) && enabled(id);
        if self.any_root_rule(is_global) {
            let entry = self.root_gathers.global.clone();
            let input = objects_input(objects, subjects);
            results.extend(self.run_root(&entry, &input, context, is_global));
        }
        // Back in rule order, as one evaluation over the whole root gives them: the rules
        // are sorted by their (unique) ids when loaded.
        results.sort_by(|(a, _), (b, _)| a.cmp(b));
        root_violations(results)
    }

    /// Whether what is evaluated over a root needs every object of it even when findings on
    /// only some of them count: an enabled root-scope rule that relates objects beyond one
    /// namespace (no `custom.relatesWithin: namespace`), or Gatekeeper's inventory.
    pub fn needs_whole_root(&self, enabled: impl Fn(&str) -> bool) -> bool {
        self.gatekeeper.is_some()
            || self
                .rules
                .iter()
                .any(|r| r.info.root_scope && !r.namespace_local && enabled(&r.info.id))
    }

    /// Whether some root-scope rule is `enabled`.
    fn any_root_rule(&self, enabled: impl Fn(&str) -> bool) -> bool {
        self.rules
            .iter()
            .any(|r| r.info.root_scope && enabled(&r.info.id))
    }

    /// The `deny` of each enabled root-scope rule on `input`, from the gather rule `entry` in
    /// the VM when it succeeds, else rule by rule in the interpreter (`run_scoped`).
    fn run_root(
        &mut self,
        entry: &str,
        input: &regorus::Value,
        context: &serde_json::Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<(String, Result<regorus::Value, EvalError>)> {
        // The VM is lent to the run and given back (a panic in it is caught).
        if let Some(mut vm) = self.root_vm.take() {
            let scoped = |r: &RuleInfo| r.root_scope;
            let picked = self.run_gather(&mut vm, (entry, input), context, scoped, &enabled);
            self.root_vm = Some(vm);
            if let Some(picked) = picked {
                return picked;
            }
        }
        self.run_scoped(|r| r.root_scope, input, context, enabled)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{PolicySet, PolicySource};
    use serde_json::{Value, json};

    fn rego_values(objects: &[Value]) -> Vec<regorus::Value> {
        objects
            .iter()
            .map(crate::policy::value::rego_value)
            .collect()
    }

    /// [`Evaluator::evaluate_root`] of JSON objects, converted as `app::roots` does.
    fn evaluate_root_json(
        ev: &mut crate::policy::Evaluator,
        objects: &[Value],
        focus: Option<&[Value]>,
        subjects: Option<&[usize]>,
        context: &Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<Result<crate::policy::Violation, crate::policy::EvalError>> {
        let focus = focus.map(rego_values);
        let objects = rego_values(objects);
        ev.evaluate_root(&objects, focus.as_deref(), subjects, context, enabled)
    }

    /// Every root rule of `set` on `objects`, with an empty context.
    fn findings_of(
        set: &PolicySet,
        objects: &[Value],
    ) -> Vec<Result<crate::policy::Violation, crate::policy::EvalError>> {
        evaluate_root_json(
            &mut set.evaluator(),
            objects,
            None,
            None,
            &json!({}),
            |_| true,
        )
    }

    /// The input made of shared objects is the one regorus made of the JSON document.
    #[test]
    fn the_input_is_the_json_documents() {
        let objects = root();
        assert_eq!(
            super::objects_input(&rego_values(&objects), Some(&[0, 2])),
            regorus::Value::from(json!({"objects": objects, "subjects": [0, 2]}))
        );
        assert_eq!(
            super::objects_input(&rego_values(&objects), None),
            regorus::Value::from(json!({"objects": objects}))
        );
    }

    /// A root touching every built-in root rule, with findings for each.
    fn root() -> Vec<Value> {
        let deployment = |name: &str, ns: &str, app: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": app}},
                    "template": {"metadata": {"labels": {"app": app}}, "spec": {
                        "serviceAccountName": "runner",
                        "volumes": [{"name": "c", "configMap": {"name": "settings"}}],
                        "containers": [{"name": "a", "image": "nginx",
                            "envFrom": [{"secretRef": {"name": "creds"}}]}]}}}})
        };
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "deny", "namespace": "b"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
            deployment("web", "a", "web"),
            deployment("web", "a", "web"),
            deployment("api", "b", "api"),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": "b"}}),
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": "api", "namespace": "b"},
                "spec": {"selector": {"matchLabels": {"app": "api"}}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "a"},
                "spec": {"selector": {"app": "web"}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gone", "namespace": "b"},
                "spec": {"selector": {"app": "gone", "tier": "x"}}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "h", "namespace": "b"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "nope"}}}),
            // Pods an operator creates (service-selects-no-pod's `operator_pod_labels`).
            json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
                "metadata": {"name": "k8s", "namespace": "b"},
                "spec": {"podMetadata": {"labels": {"app": "prom"}}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prom", "namespace": "b"},
                "spec": {"selector": {"app": "prom"}}}),
            json!({}),
        ]
    }

    #[test]
    fn the_builtin_root_rules_run_compiled_with_the_interpreters_results() {
        let set = PolicySet::builtin().expect("built-in policies");
        assert!(
            set.root_program.is_some(),
            "the built-in root rules compile"
        );
        let mut compiled = set.evaluator();
        let mut interpreted = set.evaluator();
        interpreted.root_vm = None;
        let objects = root();
        let mut focus = objects.clone();
        focus[0] = json!({});
        for context in [json!({"production": true}), json!({"production": false})] {
            let vm = compiled.root_vm.as_mut().expect("a VM");
            let input = super::objects_input(&rego_values(&objects), None);
            let entry = set.root_gathers.all.clone();
            let data = || json!({"kgate": context.clone()});
            assert!(
                vm.run(&context, data, &input, &entry).is_some(),
                "runs in the VM"
            );
            for focus in [None, Some(&focus[..])] {
                let a =
                    evaluate_root_json(&mut compiled, &objects, focus, None, &context, |_| true);
                let b =
                    evaluate_root_json(&mut interpreted, &objects, focus, None, &context, |_| true);
                assert_eq!(a, b);
                let rules: std::collections::BTreeSet<_> =
                    a.iter().flatten().map(|v| v.rule.as_str()).collect();
                assert!(rules.len() >= 4, "{a:#?}");
            }
            let only = |id: &str| id == "hpa-target-missing";
            let a = evaluate_root_json(&mut compiled, &objects, None, None, &context, only);
            assert_eq!(
                a,
                evaluate_root_json(&mut interpreted, &objects, None, None, &context, only)
            );
            assert!(
                matches!(&a[..], [Ok(v)] if v.rule == "hpa-target-missing"),
                "{a:?}"
            );
        }
    }

    #[test]
    fn subjects_keep_the_findings_on_them_and_drop_the_others() {
        // Every built-in root rule, with and without a focus, in the VM and the interpreter:
        // naming subjects gives exactly the findings on those objects of the whole run.
        let set = PolicySet::builtin().expect("built-in policies");
        let mut compiled = set.evaluator();
        let mut interpreted = set.evaluator();
        interpreted.root_vm = None;
        let objects = root();
        let context = json!({"production": true});
        let whole = evaluate_root_json(&mut compiled, &objects, None, None, &context, |_| true);
        let on = |i: usize| {
            let kept: Vec<_> = (whole.iter())
                .filter(|r| matches!(r, Ok(v) if v.object == Some(i)))
                .cloned()
                .collect();
            kept
        };
        let mut seen = std::collections::BTreeSet::new();
        for subjects in [
            vec![0],
            vec![1],
            vec![4],
            vec![3, 4],
            vec![5, 9, 10],
            vec![],
        ] {
            let expected: Vec<_> = subjects.iter().flat_map(|i| on(*i)).collect();
            for ev in [&mut compiled, &mut interpreted] {
                let mut got =
                    evaluate_root_json(ev, &objects, None, Some(&subjects), &context, |_| true);
                let mut want = expected.clone();
                let key = |r: &Result<super::Violation, super::EvalError>| format!("{r:?}");
                got.sort_by_key(key);
                want.sort_by_key(key);
                assert_eq!(got, want, "subjects {subjects:?}");
            }
            seen.extend(expected.iter().flatten().map(|v| v.rule.clone()));
        }
        // The subjects above carry a finding of every built-in root rule.
        assert!(seen.len() >= 5, "{seen:?}");
    }

    #[test]
    fn large_roots_run_in_the_vm() {
        // Beyond regorus' default instruction limit: the VM would fail and the root would
        // go to the interpreter (the same findings, several times slower).
        let set = PolicySet::builtin().expect("built-in policies");
        let mut ev = set.evaluator();
        let objects: Vec<Value> = (0..40)
            .flat_map(|i| {
                root().into_iter().map(move |mut o| {
                    o["metadata"]["name"] = json!(format!("o{i}"));
                    o
                })
            })
            .collect();
        let vm = ev.root_vm.as_mut().expect("a VM");
        let input = super::objects_input(&rego_values(&objects), None);
        let data = || json!({"kgate": {}});
        let entry = set.root_gathers.all.clone();
        assert!(vm.run(&json!({}), data, &input, &entry).is_some());
    }

    /// One root-scope rule (`my-rule`) made of `body`.
    fn custom(body: &str) -> Vec<PolicySource> {
        vec![PolicySource {
            path: "policies/custom/my-rule.rego".into(),
            text: format!(
                "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: my-rule\n#   severity: error\n#   remediation: R\n#   scope: root\npackage custom.my_rule\n{body}\n"
            ),
        }]
    }

    #[test]
    fn a_root_rule_body_that_errors_is_a_policy_error_not_a_pass() {
        let objects =
            vec![json!({"kind": "X", "metadata": {"name": "web"}, "spec": {"replicas": 0}})];
        let bodies = [
            "deny contains \"m\" if { some o in input.objects; 10 / o.spec.replicas > 1 }",
            "deny contains \"m\" if { some o in input.objects; to_number(o.metadata.name) > 1 }",
            "f(x) := y if { y := x * 2 }\ndeny contains \"m\" if { some o in input.objects; f(o.metadata.name) > 1 }",
        ];
        for body in bodies {
            let set = PolicySet::load(&custom(body)).expect("loads");
            assert!(set.root_program.is_some(), "compiled: {body}");
            let mut ev = set.evaluator();
            let vm = ev.root_vm.as_mut().expect("a VM");
            let input = super::objects_input(&rego_values(&objects), None);
            let entry = set.root_gathers.all.clone();
            let alone = vm.run(&json!({}), || json!({"kgate": {}}), &input, &entry);
            assert!(alone.is_none(), "{body}: the VM gave {alone:?}");
            for focus in [None, Some(&objects[..])] {
                let out = evaluate_root_json(&mut ev, &objects, focus, None, &json!({}), |_| true);
                assert!(
                    matches!(&out[..], [Err(e)] if e.rule == "my-rule"),
                    "{body}: {out:?}"
                );
            }
        }
        let set = PolicySet::load(&custom(
            "deny contains {\"msg\": \"m\", \"object\": i} if { some i, o in input.objects; o.kind == \"X\" }",
        ))
        .expect("loads");
        let out = findings_of(&set, &objects);
        assert!(
            matches!(&out[..], [Ok(v)] if v.object == Some(0)),
            "{out:?}"
        );
    }

    #[test]
    fn only_a_rule_relating_objects_across_namespaces_needs_the_whole_root() {
        let builtin = PolicySet::builtin().expect("loads").evaluator();
        assert!(!builtin.needs_whole_root(|_| true));
        let body = "deny contains \"m\" if { some o in input.objects; o.kind == \"X\" }";
        let global = PolicySet::load(&custom(body)).expect("loads").evaluator();
        assert!(global.needs_whole_root(|_| true));
        assert!(!global.needs_whole_root(|id| id != "my-rule"));
        let mut local = custom(body);
        local[0].text = (local[0].text).replace(
            "scope: root\n",
            "scope: root\n#   relatesWithin: namespace\n",
        );
        let local = PolicySet::load(&local).expect("loads").evaluator();
        assert!(!local.needs_whole_root(|_| true));
    }

    #[test]
    fn keyed_multi_value_rules_stay_in_the_interpreter() {
        // regorus' VM gives `s["a"]` no values here; the interpreter gives "one".
        let set = PolicySet::load(&custom(
            "s[k] contains v if { some o in input.objects; k := o.ns; v := o.v }\ndeny contains x if { some x in s[\"a\"] }",
        ))
        .expect("loads");
        assert!(set.root_program.is_none());
        let objects = vec![
            json!({"ns": "a", "v": "one"}),
            json!({"ns": "b", "v": "two"}),
        ];
        let out = findings_of(&set, &objects);
        assert!(matches!(&out[..], [Ok(v)] if v.message == "one"), "{out:?}");
    }

    #[test]
    fn root_rules_calling_an_extended_builtin_stay_in_the_interpreter() {
        let set = PolicySet::load(&custom(
            "deny contains \"m\" if { some o in input.objects; re_match(\"^w\", o.metadata.name) }",
        ))
        .expect("loads");
        assert!(set.root_program.is_none());
        let objects = vec![json!({"kind": "X", "metadata": {"name": "web"}})];
        let out = findings_of(&set, &objects);
        assert!(matches!(&out[..], [Ok(v)] if v.message == "m"), "{out:?}");
    }
}

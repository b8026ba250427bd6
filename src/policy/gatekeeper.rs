//! OPA Gatekeeper policies from the repository, run as the admission controller would run
//! them: every `ConstraintTemplate` (`templates.gatekeeper.sh`) contributes its Rego, every
//! Constraint (`constraints.gatekeeper.sh`, of a kind a template defines) selects objects
//! with its `spec.match` and passes `spec.parameters`. The template's `violation` rule sees
//! `input.review.object` and `input.parameters`, so policies from the gatekeeper-library work
//! unchanged. `enforcementAction` sets the severity: `deny` error, `warn` warning,
//! `dryrun` note.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{EvalError, PolicyError, PolicySource, Violation, add_policy, new_engine};
use crate::finding::Severity;
use crate::rules::RuleInfo;

/// A template's Rego, by constraint kind.
#[derive(Debug, Clone)]
struct Template {
    kind: String,
    package: String,
}

/// One constraint: which objects it selects, with which parameters, and the rule it reports.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub info: RuleInfo,
    kind: String,
    package: String,
    parameters: Value,
    matcher: Value,
}

/// The repository's Gatekeeper templates and constraints, loaded into one engine.
pub struct Gatekeeper {
    engine: regorus::Engine,
    constraints: Vec<Constraint>,
}

impl Gatekeeper {
    /// From every object of the repository that is a ConstraintTemplate or a Constraint
    /// (`(source path, object)`).
    pub fn load(objects: &[(String, Value)]) -> Result<Gatekeeper, PolicyError> {
        let mut engine = new_engine();
        let mut templates: BTreeMap<String, Template> = BTreeMap::new();
        for (path, obj) in objects {
            if obj["kind"] != "ConstraintTemplate"
                || !obj["apiVersion"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("templates.gatekeeper.sh/"))
            {
                continue;
            }
            let Some(kind) = obj["spec"]["crd"]["spec"]["names"]["kind"].as_str() else {
                return Err(PolicyError::Load {
                    path: path.clone(),
                    message: "ConstraintTemplate without spec.crd.spec.names.kind".to_owned(),
                });
            };
            let Some(target) = obj["spec"]["targets"].as_array().and_then(|t| t.first()) else {
                continue;
            };
            // Templates since Gatekeeper 3.13 may put the Rego under `code:` (beside a CEL
            // `K8sNativeValidation` engine) instead of `rego:`/`libs:`.
            let source = target["code"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["engine"] == "Rego")
                .map_or(target, |c| &c["source"]);
            let target = if target["rego"].is_string() {
                target
            } else {
                source
            };
            for (i, lib) in target["libs"].as_array().into_iter().flatten().enumerate() {
                if let Some(text) = lib.as_str() {
                    add_policy(
                        &mut engine,
                        &PolicySource {
                            path: format!("{path} ({kind} lib {i})"),
                            text: text.to_owned(),
                        },
                    )?;
                }
            }
            let Some(rego) = target["rego"].as_str() else {
                continue;
            };
            let package = add_policy(
                &mut engine,
                &PolicySource {
                    path: format!("{path} ({kind})"),
                    text: rego.to_owned(),
                },
            )?;
            templates.insert(
                kind.to_owned(),
                Template {
                    kind: kind.to_owned(),
                    package,
                },
            );
        }
        let mut constraints = Vec::new();
        for (path, obj) in objects {
            if !obj["apiVersion"]
                .as_str()
                .is_some_and(|a| a.starts_with("constraints.gatekeeper.sh/"))
            {
                continue;
            }
            let (Some(kind), Some(name)) = (obj["kind"].as_str(), obj["metadata"]["name"].as_str())
            else {
                continue;
            };
            let Some(t) = templates.get(kind) else {
                return Err(PolicyError::Load {
                    path: path.clone(),
                    message: format!(
                        "constraint {kind}/{name}: no ConstraintTemplate in the repository defines the kind {kind}"
                    ),
                });
            };
            let severity = match obj["spec"]["enforcementAction"].as_str().unwrap_or("deny") {
                "warn" => Severity::Warning,
                "dryrun" => Severity::Note,
                _ => Severity::Error,
            };
            let id = format!(
                "{}-{}",
                kind.to_ascii_lowercase(),
                name.to_ascii_lowercase()
            );
            constraints.push(Constraint {
                info: RuleInfo {
                    id,
                    title: format!("Gatekeeper constraint {kind}/{name}"),
                    description: format!(
                        "The repository's Gatekeeper constraint `{kind}/{name}` ({path}), evaluated with its ConstraintTemplate's Rego as the admission controller would."
                    ),
                    severity,
                    remediation: "See the message; the constraint and its template are in the repository.".to_owned(),
                    source: path.clone(),
                    kinds: Vec::new(),
                    root_scope: false,
                    repo_scope: false,
                },
                kind: t.kind.clone(),
                package: t.package.clone(),
                parameters: obj["spec"]["parameters"].clone(),
                matcher: obj["spec"]["match"].clone(),
            });
        }
        constraints.sort_by(|a, b| a.info.id.cmp(&b.info.id));
        Ok(Gatekeeper {
            engine,
            constraints,
        })
    }

    pub fn rules(&self) -> Vec<RuleInfo> {
        self.constraints.iter().map(|c| c.info.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.constraints.is_empty()
    }

    /// Every violation of `object` against the constraints that select it.
    pub fn evaluate(
        &self,
        engine: &mut regorus::Engine,
        object: &Value,
        enabled: impl Fn(&str) -> bool,
    ) -> Vec<Result<Violation, EvalError>> {
        let mut out = Vec::new();
        for c in &self.constraints {
            if !enabled(&c.info.id) || !selects(&c.matcher, object) {
                continue;
            }
            let api_version = object["apiVersion"].as_str().unwrap_or("");
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            let input = json!({
                "review": {
                    "object": object,
                    "kind": {"group": group, "version": version, "kind": object["kind"]},
                    "name": object["metadata"]["name"],
                    "namespace": object["metadata"]["namespace"],
                    "operation": "CREATE",
                },
                "parameters": if c.parameters.is_null() { json!({}) } else { c.parameters.clone() },
            });
            engine.set_input(regorus::Value::from(input));
            match engine.eval_rule(format!("{}.violation", c.package)) {
                Ok(value) => out.extend(super::violations_of(&c.info.id, &value)),
                Err(e) => out.push(Err(EvalError {
                    rule: c.info.id.clone(),
                    message: format!("{} ({})", e, c.kind),
                })),
            }
        }
        out
    }

    /// A private engine for one worker thread.
    pub fn engine(&self) -> regorus::Engine {
        self.engine.clone()
    }

    /// Makes `objects` (a rendered root, or a file's objects) the cluster state that
    /// referential templates read, as Gatekeeper's synced `data.inventory`:
    /// `namespace[<ns>][<apiVersion>][<kind>][<name>]` and `cluster[<apiVersion>][<kind>][<name>]`.
    pub fn set_inventory(engine: &mut regorus::Engine, objects: &[Value]) -> Result<(), String> {
        let mut namespaced = serde_json::Map::new();
        let mut cluster = serde_json::Map::new();
        for o in objects {
            let (Some(api), Some(kind), Some(name)) = (
                o["apiVersion"].as_str(),
                o["kind"].as_str(),
                o["metadata"]["name"].as_str(),
            ) else {
                continue;
            };
            let slot = if crate::render::engine::is_cluster_scoped_kind(kind) {
                &mut cluster
            } else {
                let ns = o["metadata"]["namespace"].as_str().unwrap_or("default");
                namespaced
                    .entry(ns)
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("inserted as an object")
            };
            let by_kind = slot
                .entry(api)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("inserted as an object")
                .entry(kind)
                .or_insert_with(|| json!({}));
            if let Some(m) = by_kind.as_object_mut() {
                m.insert(name.to_owned(), o.clone());
            }
        }
        engine.clear_data();
        let inventory = json!({"inventory": {"namespace": namespaced, "cluster": cluster}});
        engine
            .add_data(regorus::Value::from(inventory))
            .map_err(|e| e.to_string())
    }
}

/// CustomResourceDefinitions for the constraint kinds the templates define (Gatekeeper
/// generates them in the cluster): `spec.parameters` is validated against the template's
/// `openAPIV3Schema`, `spec.match` and `spec.enforcementAction` are accepted as Gatekeeper
/// accepts them.
pub fn constraint_crds(objects: &[(String, Value)]) -> Vec<Value> {
    objects
        .iter()
        .filter(|(_, o)| o["kind"] == "ConstraintTemplate")
        .filter_map(|(_, o)| {
            let kind = o["spec"]["crd"]["spec"]["names"]["kind"].as_str()?;
            let parameters = match &o["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"] {
                Value::Object(s) => Value::Object(s.clone()),
                _ => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
            };
            let schema = json!({"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {
                    "match": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "enforcementAction": {"type": "string"},
                    "parameters": parameters,
                }},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            }}});
            Some(json!({
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": format!("{}.constraints.gatekeeper.sh", kind.to_ascii_lowercase())},
                "spec": {
                    "group": "constraints.gatekeeper.sh",
                    "names": {"kind": kind},
                    "versions": [
                        {"name": "v1beta1", "served": true, "schema": schema.clone()},
                        {"name": "v1alpha1", "served": true, "schema": schema.clone()},
                        {"name": "v1", "served": true, "schema": schema},
                    ],
                },
            }))
        })
        .collect()
}

/// Gatekeeper's `spec.match`: kinds (apiGroups and kinds, `*` wildcards), scope, namespaces,
/// excludedNamespaces, name, labelSelector (namespaceSelector needs the live cluster's
/// namespace labels and is treated as matching).
fn selects(m: &Value, object: &Value) -> bool {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    let kind = object["kind"].as_str().unwrap_or("");
    let cluster_scoped = crate::render::engine::is_cluster_scoped_kind(kind);
    // As Gatekeeper matches: a Namespace is in itself; other cluster-scoped objects are in no
    // namespace, and `namespaces`/`excludedNamespaces` do not filter them; a namespaced
    // object without one lands in `default` (as `kubectl apply` puts it).
    let namespace = if kind == "Namespace" && group.is_empty() {
        object["metadata"]["name"].as_str()
    } else if cluster_scoped {
        None
    } else {
        Some(
            object["metadata"]["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or("default"),
        )
    };
    if let Some(kinds) = m["kinds"].as_array() {
        let any = kinds.iter().any(|k| {
            let has = |field: &str, v: &str| {
                k[field].as_array().is_none_or(|list| {
                    list.iter()
                        .any(|x| x.as_str().is_some_and(|x| x == "*" || x == v))
                })
            };
            has("apiGroups", group) && has("kinds", kind)
        });
        if !any {
            return false;
        }
    }
    if let Some(namespace) = namespace {
        // Names, or globs with a leading or trailing `*`.
        let listed = |field: &str| {
            m[field].as_array().map(|l| {
                l.iter().any(|n| {
                    n.as_str().is_some_and(|n| {
                        n == namespace
                            || n.strip_suffix('*')
                                .is_some_and(|p| namespace.starts_with(p))
                            || n.strip_prefix('*').is_some_and(|p| namespace.ends_with(p))
                    })
                })
            })
        };
        if listed("namespaces") == Some(false) {
            return false;
        }
        if listed("excludedNamespaces") == Some(true) {
            return false;
        }
    }
    match m["scope"].as_str() {
        Some("Cluster") if !cluster_scoped => return false,
        Some("Namespaced") if cluster_scoped => return false,
        _ => {}
    }
    if let Some(name) = m["name"].as_str()
        && object["metadata"]["name"].as_str() != Some(name)
    {
        return false;
    }
    if let Some(labels) = m["labelSelector"]["matchLabels"].as_object() {
        let have = &object["metadata"]["labels"];
        if !labels.iter().all(|(k, v)| &have[k] == v) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_kinds_namespaces_and_labels() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "kube-system", "labels": {"a": "b"}}});
        assert!(selects(
            &json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}),
            &pod
        ));
        assert!(!selects(
            &json!({"kinds": [{"apiGroups": ["apps"], "kinds": ["Pod"]}]}),
            &pod
        ));
        assert!(selects(
            &json!({"kinds": [{"apiGroups": ["*"], "kinds": ["*"]}]}),
            &pod
        ));
        assert!(!selects(&json!({"excludedNamespaces": ["kube-*"]}), &pod));
        assert!(!selects(&json!({"namespaces": ["prod"]}), &pod));
        assert!(selects(
            &json!({"labelSelector": {"matchLabels": {"a": "b"}}}),
            &pod
        ));
        assert!(!selects(
            &json!({"labelSelector": {"matchLabels": {"a": "c"}}}),
            &pod
        ));
        assert!(selects(&Value::Null, &pod));
        assert!(!selects(&json!({"scope": "Cluster"}), &pod));
        assert!(selects(&json!({"scope": "Namespaced"}), &pod));
    }
}

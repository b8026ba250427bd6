use serde_json::json;

use super::*;

fn v(minor: u32, strict: bool) -> Validator {
    Validator::new(KubeVersion::parse(&format!("1.{minor}")).unwrap(), strict)
}

fn problems(val: &Validator, obj: Value) -> Vec<(String, String, String)> {
    val.check(&obj)
        .into_iter()
        .map(|v| {
            let ptr = v
                .path
                .map(|p| crate::yaml::json_pointer(&p))
                .unwrap_or_default();
            (v.rule, ptr, v.message)
        })
        .collect()
}

fn deployment(spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec})
}

fn pod_spec(container: Value) -> Value {
    json!({"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}})
}

#[test]
fn valid_objects_of_many_kinds_pass() {
    let val = v(32, true);
    let objects = vec![
        deployment(pod_spec(
            json!({"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}], "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}),
        )),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}, "spec": {"rules": [{"host": "a.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 5}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox:1.36"}]}}}}}}),
    ];
    for o in objects {
        assert_eq!(problems(&val, o.clone()), vec![], "{o}");
    }
}

#[test]
fn wrong_types_name_the_field_and_the_type() {
    let val = v(32, false);
    let p = problems(
        &val,
        deployment(json!({"replicas": "two", "selector": {}, "template": {}})),
    );
    assert_eq!(
        p,
        vec![(
            SCHEMA_INVALID.to_owned(),
            "/spec/replicas".to_owned(),
            "spec.replicas: \"two\" is not of type integer".to_owned()
        )]
    );
    // int-or-string: one finding, not oneOf noise.
    let p = problems(
        &val,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "targetPort": true}]}}),
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].2,
        "spec.ports[0].targetPort: true is not of type string or integer"
    );
    // A required field and an enum.
    // A required field (the built-in schemas declare no enums; CRDs do, below).
    let p = problems(
        &val,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"image": "x:1"}]}}),
    );
    assert_eq!(
        p,
        vec![(
            SCHEMA_INVALID.to_owned(),
            "/spec/containers/0".to_owned(),
            "spec.containers[0]: missing required field `name`".to_owned()
        )]
    );
}

#[test]
fn strict_mode_reports_unknown_fields_with_a_suggestion() {
    let obj = deployment(pod_spec(
        json!({"name": "app", "image": "nginx:1.27", "imagePulPolicy": "Always"}),
    ));
    assert_eq!(problems(&v(32, false), obj.clone()), vec![]);
    let p = problems(&v(32, true), obj);
    assert_eq!(
        p,
        vec![(
            UNKNOWN_FIELD.to_owned(),
            "/spec/template/spec/containers/0/imagePulPolicy".to_owned(),
            "spec.template.spec.containers[0].imagePulPolicy: unknown field `imagePulPolicy` (did you mean `imagePullPolicy`?)".to_owned()
        )]
    );
}

#[test]
fn removed_and_deprecated_apis_follow_the_target_version() {
    let pdb = json!({"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "spec": {"minAvailable": 1}});
    let p = problems(&v(25, false), pdb);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, REMOVED_API);
    assert!(p[0].2.contains("use policy/v1"), "{}", p[0].2);
    let fs = json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3", "kind": "FlowSchema", "metadata": {"name": "f"}, "spec": {"priorityLevelConfiguration": {"name": "x"}}});
    assert_eq!(problems(&v(31, false), fs.clone())[0].0, DEPRECATED_API);
    assert_eq!(problems(&v(32, false), fs)[0].0, REMOVED_API);
}

#[test]
fn version_boundaries_come_from_the_embedded_schemas() {
    // ValidatingAdmissionPolicy went GA (admissionregistration.k8s.io/v1) in 1.30.
    let vap = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "v"}, "spec": {"validations": [{"expression": "true"}]}});
    assert_eq!(problems(&v(29, false), vap.clone())[0].0, SCHEMA_MISSING);
    assert_eq!(problems(&v(30, false), vap), vec![]);
}

#[test]
fn unknown_kinds_are_missing_and_crds_make_them_known() {
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": "big", "tier": "gold"}});
    let mut val = v(32, false);
    assert_eq!(problems(&val, widget.clone())[0].0, SCHEMA_MISSING);
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}, "tier": {"type": "string", "enum": ["free", "pro"]}}}}}}}]}});
    assert_eq!(val.add_crd(&crd), 1);
    assert_eq!(
        problems(&val, widget),
        vec![
            (
                SCHEMA_INVALID.to_owned(),
                "/spec/size".to_owned(),
                "spec.size: \"big\" is not of type integer".to_owned()
            ),
            (
                SCHEMA_INVALID.to_owned(),
                "/spec/tier".to_owned(),
                "spec.tier: \"gold\" is not one of [\"free\",\"pro\"]".to_owned()
            ),
        ]
    );
}

#[test]
fn catalog_knows_argo_and_flux() {
    let val = v(32, false);
    let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "a"},
        "spec": {"project": "default", "source": {"repoURL": "https://example.com/r.git", "path": "apps/web", "targetRevision": "HEAD"}, "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"}}});
    assert_eq!(problems(&val, app), vec![]);
    let ks = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": "k"},
        "spec": {"interval": "10m", "path": "./apps", "prune": "yes", "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}});
    let p = problems(&val, ks);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].1, "/spec/prune");
}

#[test]
fn flux_variables_and_sops_values_pass_where_a_value_could() {
    let val = v(32, true);
    let obj = deployment(
        json!({"replicas": "${REPLICAS}", "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:${TAG:=1.27}"}]}}}),
    );
    assert_eq!(problems(&val, obj), vec![]);
    let bad = deployment(json!({"replicas": "${REPLICAS}x", "selector": {}, "template": {}}));
    assert_eq!(problems(&val, bad)[0].1, "/spec/replicas");
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "ENC[AES256_GCM,data:abc,type:str]"}, "immutable": "ENC[AES256_GCM,data:dHJ1ZQ==,type:bool]",
        "sops": {"version": "3.8.1", "mac": "ENC[...]"}});
    assert_eq!(problems(&val, secret), vec![]);
}

#[test]
fn secret_values_are_never_printed() {
    let val = v(32, false);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": 12345}});
    let p = problems(&val, secret);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(!p[0].2.contains("12345"), "{}", p[0].2);
}

#[test]
fn catalog_resources_pass_strict_mode() {
    let val = v(32, true);
    let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "a", "namespace": "argocd"},
        "spec": {"project": "default", "source": {"repoURL": "https://example.com/r.git", "path": "apps/web", "targetRevision": "HEAD"}, "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"}, "syncPolicy": {"automated": {"prune": true}}}});
    assert_eq!(problems(&val, app), vec![]);
    let git = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": "g", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": "https://github.com/example/repo", "ref": {"branch": "main"}}});
    assert_eq!(problems(&val, git), vec![]);
    let typo = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": "g"},
        "spec": {"interval": "1m", "url": "https://github.com/example/repo", "refs": {"branch": "main"}}});
    let p = problems(&val, typo);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, UNKNOWN_FIELD);
    assert!(p[0].2.contains("did you mean `ref`?"), "{}", p[0].2);
    // Gateway API and Argo Rollouts: int-or-string and nullable fields as the API server
    // reads them (the catalog is converted as a repository's own CRDs are).
    let route = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "web", "port": 8080}]}]}});
    assert_eq!(problems(&val, route), vec![]);
    let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
            "strategy": {"canary": {"maxSurge": "25%", "maxUnavailable": 0, "steps": [{"setWeight": 20}, {"pause": {}}]}}}});
    assert_eq!(problems(&val, rollout), vec![]);
    let bad = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"},
        "spec": {"rules": [{"backendRefs": [{"name": "web", "port": "http"}]}]}});
    assert_eq!(problems(&val, bad)[0].1, "/spec/rules/0/backendRefs/0/port");
}

#[test]
fn catalog_schemas_read_back_from_rust_bindings_check_types_enums_and_fields() {
    // Cluster API, Flux's HelmRelease v2 and External Secrets come from kopium-generated
    // bindings (schemas/README.md): properties, types, required fields and enums.
    let val = v(32, true);
    let cluster = json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "c"},
        "spec": {"clusterNetwork": {"pods": {"cidrBlocks": ["192.168.0.0/16"]}},
            "controlPlaneRef": {"apiVersion": "controlplane.cluster.x-k8s.io/v1beta1", "kind": "KubeadmControlPlane", "name": "c"},
            "topology": {"class": "quick-start", "version": "v1.31.0", "controlPlane": {"replicas": 3},
                "workers": {"machineDeployments": [{"class": "default-worker", "name": "md-0", "replicas": 2}]}}}});
    assert_eq!(problems(&val, cluster), vec![]);
    let bad = json!({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "c"},
        "spec": {"paused": "yes", "clusterNetwork": {"pods": {}}, "clusterNetwrk": {}}});
    let mut p: Vec<(String, String)> = problems(&val, bad)
        .into_iter()
        .map(|p| (p.0, p.1))
        .collect();
    p.sort();
    assert_eq!(
        p,
        [
            (
                SCHEMA_INVALID.to_owned(),
                "/spec/clusterNetwork/pods".to_owned()
            ),
            (SCHEMA_INVALID.to_owned(), "/spec/paused".to_owned()),
            (UNKNOWN_FIELD.to_owned(), "/spec/clusterNetwrk".to_owned()),
        ]
    );
    let hr = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "h"},
        "spec": {"interval": "5m", "chartRef": {"kind": "OCIRepository", "name": "podinfo"}}});
    assert_eq!(problems(&val, hr), vec![]);
    let es = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "e"},
        "spec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
            "target": {"name": "db", "creationPolicy": "Owner"}, "data": [{"secretKey": "password", "remoteRef": {"key": "db/password"}}]}});
    assert_eq!(problems(&val, es), vec![]);
    let es_bad = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "e"},
        "spec": {"secretStoreRef": {"name": "vault"}, "target": {"creationPolicy": "Sometimes"}}});
    assert_eq!(problems(&val, es_bad)[0].1, "/spec/target/creationPolicy");
}

#[test]
fn explicit_nulls_are_dropped_as_the_api_server_drops_them() {
    let val = v(32, true);
    // `securityContext:` and `resources:` with only comments under them, and a custom
    // resource whose `syncPolicy:` is empty: `kubectl apply` accepts all three.
    let obj = deployment(pod_spec(
        json!({"name": "app", "image": "nginx:1.27", "securityContext": null, "resources": null}),
    ));
    assert_eq!(problems(&val, obj), vec![]);
    let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "a", "annotations": null},
        "spec": {"project": "default", "syncPolicy": null, "source": {"repoURL": "https://example.com/r.git", "path": "apps/web"}, "destination": {"namespace": "web"}}});
    assert_eq!(problems(&val, app), vec![]);
    // A wrong type beside a null is still reported, at its own path.
    let bad =
        deployment(json!({"replicas": "two", "paused": null, "selector": {}, "template": {}}));
    let p = problems(&val, bad);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].1, "/spec/replicas");
}

#[test]
fn defaults_are_applied_before_cel_rules_as_the_api_server_applies_them() {
    // Gateway API's backendRef rule reads `self.kind`, which the object leaves to its
    // default (`Service`): the API server defaults, then validates, and accepts it.
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "routes.example.com"},
        "spec": {"group": "example.com", "names": {"kind": "Route", "plural": "routes"}, "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {"spec": {"type": "object", "properties": {
                    "backendRefs": {"type": "array", "items": {"type": "object",
                        "x-kubernetes-validations": [{"rule": "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true",
                            "message": "Must have port for Service reference"}],
                        "properties": {
                            "group": {"type": "string", "default": ""},
                            "kind": {"type": "string", "default": "Service"},
                            "name": {"type": "string"},
                            "port": {"type": "integer"}}}}}}}}}}]}});
    let mut val = v(32, false);
    val.add_crd(&crd);
    let route = |refs: Value| json!({"apiVersion": "example.com/v1", "kind": "Route", "metadata": {"name": "r"}, "spec": {"backendRefs": refs}});
    assert_eq!(
        problems(&val, route(json!([{"name": "web", "port": 80}]))),
        vec![]
    );
    // Without a port the defaulted kind makes the rule fail, with the CRD's message.
    let p = problems(&val, route(json!([{"name": "web"}])));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].2,
        "spec.backendRefs[0]: Must have port for Service reference"
    );
}

#[test]
fn constraint_templates_are_validated_with_kgates_own_schema() {
    let val = v(32, false);
    let template = |targets: Value| {
        json!({"apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "k8srequiredlabels"},
        "spec": {"crd": {"spec": {"names": {"kind": "K8sRequiredLabels"},
            "validation": {"openAPIV3Schema": {"type": "object", "properties": {"labels": {"type": "array"}}}}}},
            "targets": targets}})
    };
    let good = template(
        json!([{"target": "admission.k8s.gatekeeper.sh", "rego": "package k8srequiredlabels\n"}]),
    );
    assert_eq!(problems(&val, good), vec![]);
    let p = problems(&val, template(json!([{"rego": 3}])));
    assert_eq!(
        p.iter().map(|p| p.1.as_str()).collect::<Vec<_>>(),
        ["/spec/targets/0", "/spec/targets/0/rego"],
        "{p:?}"
    );
}

/// A second validator of the same version and strictness takes an embedded kind's compiled
/// schema from the first (REF's side of a diff); another version, another strictness or a
/// repository CRD for the kind compiles its own.
#[test]
fn embedded_schemas_are_compiled_once_per_version_and_strictness() {
    let compiled = |val: &Validator| val.compiled_for("apps/v1", "Deployment").expect("known");
    let first = compiled(&v(30, false));
    assert!(Arc::ptr_eq(&first, &compiled(&v(30, false))));
    assert!(!Arc::ptr_eq(&first, &compiled(&v(30, true))));
    assert!(!Arc::ptr_eq(&first, &compiled(&v(29, false))));
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "deployments.apps"},
        "spec": {"group": "apps", "names": {"kind": "Deployment", "plural": "deployments"}, "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {"spec": {"type": "object", "properties": {
                    "replicas": {"type": "string"}}}}}}}]}});
    let mut own = v(30, false);
    own.add_crd(&crd);
    let theirs = compiled(&own);
    assert!(!Arc::ptr_eq(&first, &theirs));
    // The repository's schema is the one checked: replicas must be a string there.
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"}, "spec": {"replicas": 2}});
    assert!(!problems(&own, deployment.clone()).is_empty());
    // And the shared one is still the embedded schema.
    assert!(Arc::ptr_eq(&first, &compiled(&v(30, false))));
}

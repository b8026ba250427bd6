package kgate.rules.reliability.missing_referenced_object_test

import data.kgate.rules.reliability.missing_referenced_object

deployment(pod_spec) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}}}

cm(name) := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}

test_missing_configmap_volume_fires if {
	d := deployment({"containers": [{"name": "app"}], "volumes": [{"name": "cfg", "configMap": {"name": "web-config"}}]})
	result := missing_referenced_object.deny with input as {"objects": [d, cm("web-config-5g7h")]}
	count(result) == 1
	some v in result
	v.object == 0
	v.path == ["spec", "template", "spec", "volumes", 0, "configMap", "name"]
	v.msg == "Deployment \"web\" uses ConfigMap \"web-config\", which this root does not define in its namespace"
}

test_missing_secret_env_and_account_fire if {
	d := deployment({"serviceAccountName": "web", "containers": [{"name": "app", "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}], "envFrom": [{"configMapRef": {"name": "settings"}}]}]})
	result := missing_referenced_object.deny with input as {"objects": [d]}
	paths := {v.path | some v in result}
	paths == {
		["spec", "template", "spec", "serviceAccountName"],
		["spec", "template", "spec", "containers", 0, "env", 0, "valueFrom", "secretKeyRef", "name"],
		["spec", "template", "spec", "containers", 0, "envFrom", 0, "configMapRef", "name"],
	}
}

test_missing_pvc_and_projected_fire if {
	d := deployment({"containers": [{"name": "app"}], "volumes": [
		{"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}},
		{"name": "all", "projected": {"sources": [{"secret": {"name": "tls"}}]}},
	]})
	count(missing_referenced_object.deny) == 2 with input as {"objects": [d]}
}

test_defined_references_passes if {
	d := deployment({"serviceAccountName": "web", "containers": [{"name": "app", "envFrom": [{"secretRef": {"name": "db"}}]}], "volumes": [{"name": "cfg", "configMap": {"name": "web-config"}}]})
	sa := {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web"}}
	es := {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "x"}, "spec": {"target": {"name": "db"}}}
	count(missing_referenced_object.deny) == 0 with input as {"objects": [d, cm("web-config"), sa, es]}
}

test_optional_and_default_account_passes if {
	d := deployment({"serviceAccountName": "default", "containers": [{"name": "app", "envFrom": [{"secretRef": {"name": "db", "optional": true}}]}]})
	count(missing_referenced_object.deny) == 0 with input as {"objects": [d]}
}

test_other_namespace_fires if {
	d := deployment({"containers": [{"name": "app"}], "volumes": [{"name": "cfg", "configMap": {"name": "c"}}]})
	other := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "other"}}
	count(missing_referenced_object.deny) == 1 with input as {"objects": [d, other]}
}

test_certificate_secret_and_root_ca_pass if {
	d := deployment({"containers": [{"name": "app"}], "volumes": [
		{"name": "cert", "secret": {"secretName": "webhook-server-cert"}},
		{"name": "ca", "configMap": {"name": "kube-root-ca.crt"}},
	]})
	cert := {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "serving-cert"}, "spec": {"secretName": "webhook-server-cert"}}
	count(missing_referenced_object.deny) == 0 with input as {"objects": [d, cert]}
	count(missing_referenced_object.deny) == 1 with input as {"objects": [d]}
}

package kgate.rules.security.seccomp_unconfined_test

import data.kgate.rules.security.seccomp_unconfined

deployment(pod_sc, container_sc, annotations) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {
	"metadata": {"annotations": annotations},
	"spec": {"securityContext": pod_sc, "containers": [{"name": "app", "image": "a:1", "securityContext": container_sc}]},
}}}

test_pod_unconfined_fires if {
	some v in seccomp_unconfined.deny with input as deployment({"seccompProfile": {"type": "Unconfined"}}, {}, {})
	v.path == ["spec", "template", "spec", "securityContext", "seccompProfile", "type"]
}

test_container_unconfined_fires if {
	some v in seccomp_unconfined.deny with input as deployment({}, {"seccompProfile": {"type": "Unconfined"}}, {})
	v.msg == "container \"app\" runs with seccomp Unconfined"
}

test_legacy_annotation_fires if {
	some v in seccomp_unconfined.deny with input as deployment({}, {}, {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"})
	v.path == ["spec", "template", "metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"]
}

test_runtime_default_passes if {
	count(seccomp_unconfined.deny) == 0 with input as deployment({"seccompProfile": {"type": "RuntimeDefault"}}, {}, {})
}

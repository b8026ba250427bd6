package kgate.rules.security.apparmor_unconfined_test

import data.kgate.rules.security.apparmor_unconfined

pod(annotations, sc) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": annotations}, "spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": sc}]}}

test_container_profile_fires if {
	some v in apparmor_unconfined.deny with input as pod({}, {"appArmorProfile": {"type": "Unconfined"}})
	v.msg == "container \"app\" runs with AppArmor Unconfined"
}

test_legacy_annotation_fires if {
	some v in apparmor_unconfined.deny with input as pod({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}, {})
	v.path == ["metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/app"]
}

test_runtime_default_passes if {
	count(apparmor_unconfined.deny) == 0 with input as pod({"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}, {"appArmorProfile": {"type": "RuntimeDefault"}})
}

package kgate.rules.security.proc_mount_unmasked_test

import data.kgate.rules.security.proc_mount_unmasked

pod(sc) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": sc}]}}

test_unmasked_fires if {
	some v in proc_mount_unmasked.deny with input as pod({"procMount": "Unmasked"})
	v.path == ["spec", "containers", 0, "securityContext", "procMount"]
}

test_default_passes if {
	count(proc_mount_unmasked.deny) == 0 with input as pod({"procMount": "Default"})
}

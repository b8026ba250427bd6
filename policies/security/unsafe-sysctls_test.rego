package kgate.rules.security.unsafe_sysctls_test

import data.kgate.rules.security.unsafe_sysctls

pod(sysctls) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"securityContext": {"sysctls": sysctls}, "containers": [{"name": "app", "image": "a:1"}]}}

test_unsafe_sysctl_fires if {
	result := unsafe_sysctls.deny with input as pod([{"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "kernel.msgmax", "value": "65536"}])
	count(result) == 1
	some v in result
	v.path == ["spec", "securityContext", "sysctls", 1, "name"]
	v.msg == "the pod sets the unsafe sysctl kernel.msgmax"
}

test_safe_sysctls_passes if {
	count(unsafe_sysctls.deny) == 0 with input as pod([{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}])
}

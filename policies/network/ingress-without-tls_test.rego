package kgate.rules.network.ingress_without_tls_test

import data.kgate.rules.network.ingress_without_tls

ingress(spec) := {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"}, "spec": spec}

test_no_tls_fires if {
	some v in ingress_without_tls.deny with input as ingress({"rules": [{"host": "a.example.com"}]})
	v.path == ["spec"]
}

test_uncovered_host_fires if {
	spec := {"tls": [{"hosts": ["a.example.com"], "secretName": "a"}], "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}]}
	result := ingress_without_tls.deny with input as ingress(spec)
	count(result) == 1
	some v in result
	v.path == ["spec", "rules", 1, "host"]
	v.msg == "Ingress \"web\" serves b.example.com without TLS"
}

test_all_hosts_covered_passes if {
	spec := {"tls": [{"hosts": ["a.example.com", "b.example.com"]}], "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}]}
	count(ingress_without_tls.deny) == 0 with input as ingress(spec)
}

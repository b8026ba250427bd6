# METADATA
# title: Ingress serves a host without TLS
# description: |-
#   A host of an Ingress that no `spec.tls` entry covers is served over plain HTTP:
#   credentials and cookies cross the network in clear text. Fires on a
#   networking.k8s.io Ingress without `spec.tls`, or on each rule host missing from every
#   `tls[].hosts` list; passes when every host is covered.
# custom:
#   kinds: [Ingress]
#   id: ingress-without-tls
#   severity: warning
#   remediation: Add a `spec.tls` entry (with a certificate Secret, e.g. from cert-manager) covering every host.
package kgate.rules.network.ingress_without_tls

tls_hosts := {h | some t in object.get(input.spec, "tls", []); some h in object.get(t, "hosts", [])}

deny contains violation if {
	startswith(input.apiVersion, "networking.k8s.io/")
	count(object.get(input.spec, "tls", [])) == 0
	violation := {
		"msg": sprintf("Ingress %q has no TLS: its hosts are served over plain HTTP", [input.metadata.name]),
		"path": ["spec"],
	}
}

deny contains violation if {
	startswith(input.apiVersion, "networking.k8s.io/")
	count(object.get(input.spec, "tls", [])) > 0
	some i, rule in input.spec.rules
	is_string(rule.host)
	not rule.host in tls_hosts
	violation := {
		"msg": sprintf("Ingress %q serves %s without TLS", [input.metadata.name, rule.host]),
		"path": ["spec", "rules", i, "host"],
	}
}

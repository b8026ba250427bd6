# METADATA
# title: Service exposed outside the cluster
# description: |-
#   A Service of type LoadBalancer gets a public (or VPC-wide) address, and a NodePort opens a
#   port on every node: traffic then bypasses the Ingress and its TLS, authentication and rate
#   limits. Fires on such a Service unless its name is listed in the rule's `allowed`
#   parameter (`rules.params.service-type-exposed.allowed` in .kgate.yaml).
# custom:
#   kinds: [Service]
#   id: service-type-exposed
#   severity: warning
#   remediation: >-
#     Use a ClusterIP Service behind the Ingress; if the exposure is intended, add the
#     Service's name to `rules.params.service-type-exposed.allowed`.
package kgate.rules.network.service_type_exposed

allowed := data.kgate.params["service-type-exposed"].allowed if is_array(data.kgate.params["service-type-exposed"].allowed)

else := []

deny contains violation if {
	input.apiVersion == "v1"
	input.spec.type in {"LoadBalancer", "NodePort"}
	not input.metadata.name in allowed
	violation := {
		"msg": sprintf("Service %q is of type %s and reachable from outside the cluster", [input.metadata.name, input.spec.type]),
		"path": ["spec", "type"],
	}
}

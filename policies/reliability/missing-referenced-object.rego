# METADATA
# title: Pod references a ConfigMap, Secret, ServiceAccount or PVC its root does not define
# description: |-
#   A pod that mounts or reads a ConfigMap or Secret, runs as a ServiceAccount, or claims a
#   PersistentVolumeClaim that does not exist never starts (CreateContainerConfigError,
#   pending pods). Most often a generator's hashed name or a name prefix was not followed, or
#   the object was left out of the overlay. Checked within each rendered root for volumes
#   (`configMap`, `secret`, projected sources, `persistentVolumeClaim`), `envFrom`,
#   `env[].valueFrom`, `imagePullSecrets` and `serviceAccountName`.
#
#   Passes when the root defines the object in the pod's namespace, when the reference is
#   `optional: true`, for the `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap
#   (Kubernetes creates both in every namespace), and for Secrets produced in the root by an
#   ExternalSecret (`spec.target.name`, else its name), a SealedSecret or a cert-manager
#   Certificate (`spec.secretName`: the webhook certificates of kubebuilder operators).
# custom:
#   id: missing-referenced-object
#   scope: root
#   relatesWithin: namespace
#   severity: warning
#   remediation: >-
#     Add the missing object to the root (or its base), fix the name, or mark the reference
#     `optional: true` if the pod can run without it.
package kgate.rules.reliability.missing_referenced_object

import data.kgate.lib.root

deny contains violation if {
	some pod in root.pods
	pod.index in root.subject_set
	some ref in references(pod)
	not object.get(ref, "optional", false) == true
	not provided(ref.kind, ref.name, root.namespace(pod.object))
	violation := {
		"msg": sprintf("%s %q uses %s %q, which this root does not define in its namespace", [pod.object.kind, pod.object.metadata.name, ref.kind, ref.name]),
		"object": pod.index,
		"path": ref.path,
	}
}

# Every reference of a pod: {kind, name, optional, path}.
references(pod) := refs if {
	spec := pod.spec
	base := pod.path
	volumes := [r |
		some i, v in object.get(spec, "volumes", [])
		some r in volume_refs(v, array.concat(base, ["volumes", i]))
	]
	containers := [r |
		some field in ["initContainers", "containers", "ephemeralContainers"]
		some i, c in object.get(spec, field, [])
		some r in container_refs(c, array.concat(base, [field, i]))
	]
	pull := [{"kind": "Secret", "name": s.name, "path": array.concat(base, ["imagePullSecrets", i, "name"])} |
		some i, s in object.get(spec, "imagePullSecrets", [])
		is_string(s.name)
	]
	account := [{"kind": "ServiceAccount", "name": n, "path": array.concat(base, ["serviceAccountName"])} |
		n := object.get(spec, "serviceAccountName", "default")
		n != "default"
	]
	refs := array.concat(array.concat(volumes, containers), array.concat(pull, account))
}

volume_refs(v, path) := [{"kind": "ConfigMap", "name": v.configMap.name, "optional": object.get(v.configMap, "optional", false), "path": array.concat(path, ["configMap", "name"])}] if {
	is_string(v.configMap.name)
}

volume_refs(v, path) := [{"kind": "Secret", "name": v.secret.secretName, "optional": object.get(v.secret, "optional", false), "path": array.concat(path, ["secret", "secretName"])}] if {
	is_string(v.secret.secretName)
}

volume_refs(v, path) := [{"kind": "PersistentVolumeClaim", "name": v.persistentVolumeClaim.claimName, "path": array.concat(path, ["persistentVolumeClaim", "claimName"])}] if {
	is_string(v.persistentVolumeClaim.claimName)
}

volume_refs(v, path) := [r |
	some j, s in v.projected.sources
	some kind, field in {"ConfigMap": "configMap", "Secret": "secret"}
	is_string(s[field].name)
	r := {"kind": kind, "name": s[field].name, "optional": object.get(s[field], "optional", false), "path": array.concat(path, ["projected", "sources", j, field, "name"])}
] if {
	is_array(v.projected.sources)
}

container_refs(c, path) := array.concat(from, env) if {
	from := [r |
		some i, e in object.get(c, "envFrom", [])
		some kind, field in {"ConfigMap": "configMapRef", "Secret": "secretRef"}
		is_string(e[field].name)
		r := {"kind": kind, "name": e[field].name, "optional": object.get(e[field], "optional", false), "path": array.concat(path, ["envFrom", i, field, "name"])}
	]
	env := [r |
		some i, e in object.get(c, "env", [])
		some kind, field in {"ConfigMap": "configMapKeyRef", "Secret": "secretKeyRef"}
		is_string(e.valueFrom[field].name)
		r := {"kind": kind, "name": e.valueFrom[field].name, "optional": object.get(e.valueFrom[field], "optional", false), "path": array.concat(path, ["env", i, "valueFrom", field, "name"])}
	]
}

# kind/namespace/name of every object of the root, and of the Secrets that ExternalSecrets,
# SealedSecrets and cert-manager Certificates produce: a set, so each reference is one lookup.
defined contains sprintf("%s/%s/%s", [obj.kind, root.namespace(obj), obj.metadata.name]) if {
	some obj in input.objects
	is_string(obj.metadata.name)
}

defined contains sprintf("Secret/%s/%s", [root.namespace(obj), object.get(obj, ["spec", "target", "name"], obj.metadata.name)]) if {
	some obj in input.objects
	obj.kind == "ExternalSecret"
}

defined contains sprintf("Secret/%s/%s", [root.namespace(obj), obj.metadata.name]) if {
	some obj in input.objects
	obj.kind == "SealedSecret"
}

defined contains sprintf("Secret/%s/%s", [root.namespace(obj), obj.spec.secretName]) if {
	some obj in input.objects
	obj.kind == "Certificate"
	startswith(obj.apiVersion, "cert-manager.io/")
	is_string(obj.spec.secretName)
}

provided(kind, name, namespace) if sprintf("%s/%s/%s", [kind, namespace, name]) in defined

# The root CA bundle the API server's publisher puts in every namespace.
provided("ConfigMap", "kube-root-ca.crt", _) := true

# METADATA
# title: Credential written into an environment variable
# description: |-
#   An environment variable named like a credential (PASSWORD, SECRET, TOKEN, API_KEY,
#   ACCESS_KEY, PRIVATE_KEY, CREDENTIAL, ...) with a literal `value` puts the credential in
#   Git and in the pod spec, readable by anyone who can read Deployments. Values from
#   `valueFrom` (Secrets) and placeholders substituted later (`${VAR}`) pass. The finding
#   names the variable, never its value.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: credential-in-env
#   severity: error
#   sensitive: true
#   remediation: >-
#     Move the value into a Secret (encrypted in Git, or from a secret manager) and reference it
#     with `valueFrom.secretKeyRef`; rotate the exposed credential.
package kgate.rules.secrets.credential_in_env

import data.kgate.lib.kubernetes as k8s

credential_words := ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL"]

deny contains violation if {
	some c in k8s.containers
	some i, e in object.get(c.container, "env", [])
	name := upper(e.name)
	some w in credential_words
	contains(name, w)
	is_string(e.value)
	e.value != ""
	not regex.match(`^\$\{[^}]+\}$`, e.value)
	violation := {
		"msg": sprintf("%s sets %s to a literal value", [c.label, e.name]),
		"path": array.concat(c.path, ["env", i, "value"]),
	}
}

# METADATA
# title: Secret committed in plain text
# description: |-
#   A `Secret` with `data` or `stringData` in the repository puts its values in Git history
#   for everyone who can read the repository (base64 is an encoding, not encryption). Keep
#   secrets encrypted in Git (SOPS: the file carries a `sops` key and `ENC[...]` values) or
#   out of it (SealedSecret, ExternalSecret, CSI secret store), which this rule accepts.
#   Secrets of type `kubernetes.io/service-account-token` without data are filled in by the
#   cluster and pass. The finding names the keys, never the values.
#
#   Fires on a v1 Secret with a non-empty `data` or `stringData` value that is not
#   SOPS-encrypted.
# custom:
#   kinds: [Secret]
#   id: plaintext-secret
#   severity: error
#   sensitive: true
#   remediation: >-
#     Remove the values from Git (rotate them: they are in the history), and deliver them
#     encrypted with SOPS or Sealed Secrets, or from a secret manager via External Secrets.
package kgate.rules.secrets.plaintext_secret

deny contains violation if {
	input.apiVersion == "v1"
	not input.sops
	keys := sort([k | some field in ["data", "stringData"]; some k, v in object.get(input, field, {}); plain(v)])
	count(keys) > 0
	field := plain_fields[0]
	violation := {
		"msg": sprintf("Secret %q holds values in plain text (keys: %s)", [input.metadata.name, concat(", ", keys)]),
		"path": [field, first_key(field)],
	}
}

plain(v) if {
	is_string(v)
	v != ""
	not startswith(v, "ENC[")
}

plain(v) if not is_string(v)

plain_fields := [f | some f in ["data", "stringData"]; some _, v in object.get(input, f, {}); plain(v)]

first_key(field) := sort([k | some k, v in input[field]; plain(v)])[0]

package kgate.rules.secrets.credential_in_env_test

import data.kgate.rules.secrets.credential_in_env

pod(env) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "env": env}]}}

test_literal_password_fires if {
	result := credential_in_env.deny with input as pod([{"name": "LOG_LEVEL", "value": "info"}, {"name": "db_password", "value": "hunter2"}])
	count(result) == 1
	some v in result
	v.path == ["spec", "containers", 0, "env", 1, "value"]
	v.msg == "container \"app\" sets db_password to a literal value"
	not contains(v.msg, "hunter2")
}

test_secret_ref_passes if {
	count(credential_in_env.deny) == 0 with input as pod([{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}])
}

test_placeholder_passes if {
	count(credential_in_env.deny) == 0 with input as pod([{"name": "API_TOKEN", "value": "${API_TOKEN}"}])
}

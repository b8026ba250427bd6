package kgate.rules.secrets.plaintext_secret_test

import data.kgate.rules.secrets.plaintext_secret

secret(fields) := object.union({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque"}, fields)

test_string_data_fires if {
	result := plaintext_secret.deny with input as secret({"stringData": {"password": "hunter2", "user": "app"}})
	count(result) == 1
	some v in result
	v.path == ["stringData", "password"]
	v.msg == "Secret \"db\" holds values in plain text (keys: password, user)"
	not contains(v.msg, "hunter2")
}

test_base64_data_fires if {
	some v in plaintext_secret.deny with input as secret({"data": {"token": "aHVudGVyMg=="}})
	v.path == ["data", "token"]
}

test_sops_encrypted_passes if {
	s := secret({"data": {"token": "ENC[AES256_GCM,data:abc,type:str]"}, "sops": {"version": "3.8.1"}})
	count(plaintext_secret.deny) == 0 with input as s
}

test_enc_values_without_metadata_passes if {
	count(plaintext_secret.deny) == 0 with input as secret({"stringData": {"token": "ENC[AES256_GCM,data:abc,type:str]"}})
}

test_empty_service_account_token_passes if {
	count(plaintext_secret.deny) == 0 with input as secret({"type": "kubernetes.io/service-account-token", "data": {}})
}

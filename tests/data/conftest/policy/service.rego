package main

violation[{"msg": msg}] {
	input.kind == "Service"
	input.spec.type == "NodePort"
	msg := sprintf("Service %s must not be a NodePort", [input.metadata.name])
}

package main

import rego.v1

deny contains msg if {
	input.kind == "Deployment"
	not input.metadata.labels.team
	msg := sprintf("Deployment %s must have a team label", [input.metadata.name])
}

deny contains msg if {
	input.kind == "Deployment"
	team := input.metadata.labels.team
	not team in data.teams
	msg := sprintf("team %s is not a known team", [team])
}

warn_replicas contains {"msg": msg} if {
	input.kind == "Deployment"
	input.spec.replicas < 2
	msg := sprintf("Deployment %s runs a single replica", [input.metadata.name])
}

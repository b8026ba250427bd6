package main

import rego.v1

test_team_label_required if {
	deny["Deployment web must have a team label"] with input as {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}}
}

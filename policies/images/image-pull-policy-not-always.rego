# METADATA
# title: Mutable image tag pulled only if not present
# description: |-
#   With `imagePullPolicy: IfNotPresent` or `Never`, a node keeps running whatever it
#   pulled the first time it saw a mutable tag (`latest`, or no tag): two nodes run two
#   different images under one name, and a fix pushed to the tag never arrives. Kubernetes
#   defaults the policy to `Always` for such tags; setting it otherwise breaks that.
#
#   Fires on an image with the `latest` tag or no tag (and no digest) whose
#   `imagePullPolicy` is set to something other than `Always`; passes when it is unset or
#   `Always`, and for pinned images.
#
#   `ko://` import paths pass: ko builds them and writes a digest-pinned image in their place.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: image-pull-policy-not-always
#   severity: warning
#   remediation: Pin the image to a version tag or digest, or remove `imagePullPolicy` (or set it to `Always`).
package kgate.rules.images.image_pull_policy_not_always

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	image := c.container.image
	is_string(image)
	not k8s.built_by_ko(image)
	mutable(image)
	policy := c.container.imagePullPolicy
	policy != "Always"
	violation := {
		"msg": sprintf("%s pulls the mutable image %q with imagePullPolicy %s", [c.label, image, policy]),
		"path": array.concat(c.path, ["imagePullPolicy"]),
	}
}

mutable(image) if {
	not contains(image, "@")
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	not contains(last, ":")
}

mutable(image) if {
	not contains(image, "@")
	endswith(image, ":latest")
}

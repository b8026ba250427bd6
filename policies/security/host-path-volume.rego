# METADATA
# title: Pod mounts a hostPath volume
# description: |-
#   A hostPath volume exposes a directory or file of the node to the pod. Writable, it lets
#   the pod plant files the node will execute or trust; even read-only, it leaks the node's
#   credentials, keys and other workloads' data, and the pod's behaviour depends on which
#   node it lands on. The Pod Security Standards forbid hostPath volumes in the baseline
#   profile. Mounts of the container runtime socket are also reported by
#   `docker-socket-mount`.
#
#   Fires on `volumes: [{name: logs, hostPath: {path: /var/log}}]`; passes `emptyDir`,
#   `configMap`, `secret`, `persistentVolumeClaim` and other volume types.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: host-path-volume
#   severity: error
#   remediation: >-
#     Replace the hostPath volume with an `emptyDir`, a `persistentVolumeClaim`, a
#     `configMap` or a `secret`; node agents that must read the node belong in a dedicated,
#     tightly controlled namespace.
package kgate.rules.security.host_path_volume

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	volumes := k8s.pod_spec.volumes
	is_array(volumes)
	some i, volume in volumes
	is_object(volume)
	volume.hostPath != null
	violation := {
		"msg": sprintf("volume %s mounts %s from the node (hostPath)", [volume_name(volume, i), host_path(volume.hostPath)]),
		"path": array.concat(k8s.pod_spec_path, ["volumes", i, "hostPath"]),
	}
}

volume_name(volume, _) := sprintf("%q", [volume.name]) if is_string(volume.name)

volume_name(volume, i) := sprintf("#%d", [i]) if not is_string(volume.name)

host_path(hp) := sprintf("%q", [hp.path]) if is_string(hp.path)

host_path(hp) := "a path" if not is_string(hp.path)

"""The starter KubernetesLocalProcessConfig.yaml, written by `kubelocal config init` and offered
as the fix for an empty file (and, later, by the editor's "Create KubernetesLocalProcessConfig.yaml").
"""

from __future__ import annotations

FILENAME = "KubernetesLocalProcessConfig.yaml"

STARTER_CONFIG = """\
# KubernetesLocalProcessConfig.yaml: how kubelocal prepares the environment of the process that
# runs on your workstation in place of a service in the cluster.
version: 0.1

# Environment variables added to the workstation process. Values may contain tokens:
#   $(services:NAME[.NAMESPACE][:PORT[,PORT]])  workstation address of a cluster service
#   $(volumeMounts:NAME)                        workstation directory holding a volume's files
#   $(externalendpoints:HOST:PORT[,PORT])       a host outside the cluster, reached through the agent
env: []
#  - name: MYAPP1_SERVICE_HOST
#    value: $(services:myapp1)/api/v1/
#  - name: DEBUG_MODE
#    value: "true"

# Where the container's volumes appear on the workstation (others go to a temporary directory).
volumeMounts: []
#  - name: default-token-*
#    localPath: /var/run/secrets/kubernetes.io/serviceaccount

# Optional behaviours: Probes, LifecycleHooks, ManagedIdentity.
enableFeatures: []
"""

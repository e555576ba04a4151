"""`kube-root-ca.crt` in every namespace, as kube-controller-manager's publisher keeps it (pure).

Pods' default ServiceAccount volume projects `ca.crt` from it, so a namespace without it cannot
start pods that use the API. The ConfigMap is recreated when deleted and restored when edited.
"""

from __future__ import annotations

from kubelocal.sandbox.controllers import actions, objects

NAME = "kube-root-ca.crt"
KEY = "ca.crt"


def reconcile(namespace: dict, configmap: dict | None, *, certificate_authority: str) -> actions.Decision:
    decision = actions.Decision()
    if objects.is_deleting(namespace):
        return decision
    name = objects.name_of(namespace)
    if configmap is None:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": name},
            "data": {KEY: certificate_authority},
        }
        decision.actions.append(actions.Create("configmaps", name, body))
    elif (configmap.get("data") or {}) != {KEY: certificate_authority}:
        body = dict(configmap)
        body["data"] = {KEY: certificate_authority}
        decision.actions.append(actions.Update("configmaps", body))
    return decision

"""Realistic Kubernetes objects, shaped as the API returns them in JSON (list items: no kind).

Builders return fresh dicts; tests mutate them to make awkward variants.
"""

from __future__ import annotations

import copy
from typing import Any

NAMESPACE = "shop"


def container(name: str, image: str = "registry.example.com/shop/api:1.4.2", *, ports=(), **extra) -> dict:
    body: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "50m", "memory": "128Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if ports:
        body["ports"] = [
            {"containerPort": number, "name": port_name, "protocol": "TCP"}
            if port_name
            else {"containerPort": number, "protocol": "TCP"}
            for port_name, number in ports
        ]
    body.update(extra)
    return body


def api_container(**extra) -> dict:
    """The application container of the 'api' Deployment, with probes, lifecycle, env and mounts."""
    return container(
        "api",
        ports=[("http", 8080), ("metrics", 9090)],
        command=["/app/api"],
        args=["--listen=:8080", "--metrics=:9090"],
        env=[
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "LOG_LEVEL", "value": "info"},
        ],
        envFrom=[{"configMapRef": {"name": "api-config"}}],
        livenessProbe={
            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
            "failureThreshold": 3, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1,
        },
        readinessProbe={
            "httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
            "failureThreshold": 3, "periodSeconds": 5, "successThreshold": 1, "timeoutSeconds": 1,
        },
        lifecycle={"preStop": {"exec": {"command": ["sleep", "5"]}}},
        volumeMounts=[
            {"mountPath": "/etc/api", "name": "config", "readOnly": True},
            {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-x7k2p",
             "readOnly": True},
        ],
        **extra,
    )  # fmt: skip


def pod_spec(*containers: dict, **extra) -> dict:
    spec: dict[str, Any] = {
        "containers": list(containers),
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
        "volumes": [{"configMap": {"defaultMode": 420, "name": "api-config"}, "name": "config"}],
    }
    spec.update(extra)
    return spec


def deployment(name: str = "api", *, spec: dict | None = None, replicas: int | None = 3, labels=None) -> dict:
    labels = labels or {"app": name}
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "uid": f"uid-deploy-{name}",
            "resourceVersion": "48213",
            "generation": 4,
            "labels": dict(labels),
            "annotations": {"deployment.kubernetes.io/revision": "4"},
        },
        "spec": {
            "progressDeadlineSeconds": 600,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                "type": "RollingUpdate",
            },
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": spec if spec is not None else pod_spec(api_container()),
            },
        },
        "status": {"replicas": replicas or 1, "readyReplicas": replicas or 1},
    }
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


def replica_set(owner: dict, *, name: str | None = None, owner_kind: str | None = "Deployment") -> dict:
    owner_name = owner["metadata"]["name"]
    body = {
        "metadata": {
            "name": name or f"{owner_name}-7d9f8c6b5d",
            "namespace": NAMESPACE,
            "uid": f"uid-rs-{name or owner_name}",
            "labels": dict(
                owner["spec"]["template"]["metadata"]["labels"], **{"pod-template-hash": "7d9f8c6b5d"}
            ),
        },
        "spec": {
            "replicas": owner["spec"].get("replicas", 1),
            "selector": copy.deepcopy(owner["spec"]["selector"]),
            "template": copy.deepcopy(owner["spec"]["template"]),
        },
    }
    if owner_kind:
        body["metadata"]["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner_kind, "name": owner_name, "uid": owner["metadata"]["uid"],
             "controller": True, "blockOwnerDeletion": True},
        ]  # fmt: skip
    return body


def stateful_set(name: str = "db", *, spec: dict | None = None, replicas: int = 2) -> dict:
    body = deployment(name, spec=spec or pod_spec(container("postgres", "postgres:16", ports=[("pg", 5432)])),
                      replicas=replicas)  # fmt: skip
    body["kind"] = "StatefulSet"
    body["metadata"]["uid"] = f"uid-sts-{name}"
    del body["spec"]["strategy"], body["spec"]["progressDeadlineSeconds"]
    body["spec"]["serviceName"] = name
    body["spec"]["podManagementPolicy"] = "OrderedReady"
    body["spec"]["updateStrategy"] = {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"}
    body["spec"]["volumeClaimTemplates"] = [
        {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                 "resources": {"requests": {"storage": "1Gi"}}}},
    ]  # fmt: skip
    return body


def pod(
    name: str,
    *,
    owner: dict | None = None,
    owner_kind: str | None = None,
    template: dict | None = None,
    ready: bool = True,
    phase: str = "Running",
) -> dict:
    """A pod created from `template` (default: the owner's template), controlled by `owner` if given."""
    if template is None:
        template = owner["spec"]["template"] if owner is not None else deployment()["spec"]["template"]
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "uid": f"uid-pod-{name}",
        "resourceVersion": "48250",
        "creationTimestamp": "2026-11-27T09:12:44Z",
        "labels": dict(template["metadata"].get("labels", {})),
    }
    if template["metadata"].get("annotations"):
        metadata["annotations"] = dict(template["metadata"]["annotations"])
    if owner is not None:
        metadata["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner_kind or owner.get("kind", "ReplicaSet"),
             "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"], "controller": True,
             "blockOwnerDeletion": True},
        ]  # fmt: skip
    spec = copy.deepcopy(template["spec"])
    spec["nodeName"] = "worker-1"
    spec["serviceAccountName"] = "default"
    containers = spec["containers"]
    return {
        "metadata": metadata,
        "spec": spec,
        "status": {
            "phase": phase,
            "podIP": "10.244.1.17",
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "True" if ready else "False",
                 **({} if ready else {"reason": "ContainersNotReady"})},
                {"type": "ContainersReady", "status": "True" if ready else "False"},
                {"type": "PodScheduled", "status": "True"},
            ],
            "containerStatuses": [
                {"name": c["name"], "ready": ready, "restartCount": 0, "image": c["image"],
                 "state": {"running": {"startedAt": "2026-11-27T09:12:50Z"}} if ready
                 else {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}}}
                for c in containers
            ],
        },
    }  # fmt: skip


def service(
    name: str = "api", *, selector=None, ports=None, cluster_ip: str = "10.96.14.20", **spec_extra
) -> dict:
    spec: dict[str, Any] = {
        "clusterIP": cluster_ip,
        "clusterIPs": [cluster_ip],
        "internalTrafficPolicy": "Cluster",
        "ipFamilies": ["IPv4"],
        "ports": ports if ports is not None else [
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
        ],
        "selector": selector if selector is not None else {"app": name},
        "sessionAffinity": "None",
        "type": "ClusterIP",
    }  # fmt: skip
    spec.update(spec_extra)
    return {"metadata": {"name": name, "namespace": NAMESPACE, "uid": f"uid-svc-{name}"}, "spec": spec}


def api_world() -> dict:
    """A Deployment 'api' with its ReplicaSet, three ready pods and its service."""
    deploy = deployment()
    rs = replica_set(deploy)
    pods = [pod(f"api-7d9f8c6b5d-{suffix}", owner=rs) for suffix in ("x2x9q", "k8l2m", "p0zzt")]
    return {"deployment": deploy, "replica_set": rs, "pods": pods, "service": service()}

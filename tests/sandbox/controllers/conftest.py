"""A tiny in-memory world for the controllers' pure decisions: applies their actions like a store would."""

from __future__ import annotations

import copy
import datetime
import itertools

import pytest

from kubelocal.sandbox.controllers import actions

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


class World:
    """Objects by (resource, namespace, name); actions applied as the API server would apply them."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None, str], dict] = {}
        self.counter = itertools.count(1)
        self.log: list[actions.Action] = []

    def add(self, resource: str, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("namespace", "default")
        number = next(self.counter)
        meta.setdefault("uid", f"uid-{number}")
        meta.setdefault("generation", 1)
        meta.setdefault("creationTimestamp", f"2026-01-01T11:{number // 60:02d}:{number % 60:02d}Z")
        key = (resource, meta["namespace"], meta["name"])
        assert key not in self.objects, f"{key} already exists"
        self.objects[key] = obj
        return obj

    def get(self, resource: str, name: str, namespace: str = "default") -> dict:
        return self.objects[(resource, namespace, name)]

    def of(self, resource: str) -> list[dict]:
        return [obj for (r, _, _), obj in sorted(self.objects.items()) if r == resource]

    def apply(self, decision: actions.Decision) -> None:
        for action in decision.actions:
            self.log.append(action)
            if isinstance(action, actions.Create):
                self.add(action.resource, action.body)
            elif isinstance(action, actions.Delete):
                obj = self.objects.pop((action.resource, action.namespace, action.name))
                assert action.uid in (None, obj["metadata"]["uid"])
            elif isinstance(action, actions.Patch):
                obj = self.objects[(action.resource, action.namespace, action.name)]
                merged = _merge(obj, action.patch)
                if action.resource != "pods" and merged.get("spec") != obj.get("spec"):
                    merged["metadata"]["generation"] = obj["metadata"]["generation"] + 1
                self.objects[(action.resource, action.namespace, action.name)] = merged
            elif isinstance(action, actions.SetStatus):
                self.objects[(action.resource, action.namespace, action.name)]["status"] = copy.deepcopy(
                    action.status
                )
            elif isinstance(action, actions.Update):
                meta = action.body["metadata"]
                self.objects[(action.resource, meta["namespace"], meta["name"])] = copy.deepcopy(action.body)

    def set_pod(
        self, pod: dict, *, phase: str, ready: bool, ip: str | None = "10.0.0.1", restarts: int = 0
    ) -> None:
        pod["status"] = {
            "phase": phase,
            "podIP": ip,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": "2026-01-01T11:00:00Z",
                }
            ],
            "containerStatuses": [{"name": "c", "restartCount": restarts}],
        }

    @staticmethod
    def template(image: str = "python:3.12-slim", labels: dict | None = None) -> dict:
        return {
            "metadata": {"labels": labels or {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "c", "image": image, "ports": [{"name": "http", "containerPort": 8080}]}
                ]
            },
        }


def _merge(target: dict, patch: dict) -> dict:
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


@pytest.fixture
def world() -> World:
    return World()

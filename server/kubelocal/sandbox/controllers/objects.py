"""Small readers over Kubernetes object dicts shared by the controllers (pure)."""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets

# The alphabet kube uses for generated name suffixes and hashes: no vowels, no confusable digits.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(SAFE_ALPHABET) for _ in range(length))


def safe_hash(value: object, length: int = 10) -> str:
    """A stable short hash of a JSON-able value, spelled in kube's safe alphabet."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).digest()
    number = int.from_bytes(digest[:16], "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(SAFE_ALPHABET))
        chars.append(SAFE_ALPHABET[index])
    return "".join(chars)


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with second precision, as the API server writes metav1.Time."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def name_of(obj: dict) -> str:
    return meta(obj).get("name", "")


def namespace_of(obj: dict) -> str | None:
    return meta(obj).get("namespace")


def uid_of(obj: dict) -> str:
    return meta(obj).get("uid", "")


def labels_of(obj: dict) -> dict:
    return meta(obj).get("labels") or {}


def is_deleting(obj: dict) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def controller_ref(obj: dict) -> dict | None:
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj: dict, owner: dict) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == uid_of(owner)


def owner_reference(owner: dict, *, api_version: str, kind: str) -> dict:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def is_pod_active(pod: dict) -> bool:
    """Counted by controllers: not terminating and not finished (kube's IsPodActive)."""
    return not is_deleting(pod) and pod_phase(pod) not in ("Succeeded", "Failed")


def pod_condition(pod: dict, condition_type: str) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def is_pod_ready(pod: dict) -> bool:
    condition = pod_condition(pod, "Ready")
    return condition is not None and condition.get("status") == "True"


def is_pod_available(pod: dict, *, min_ready_seconds: int, now: datetime.datetime) -> bool:
    """Ready for at least min_ready_seconds (kube's IsPodAvailable)."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = parse_time((pod_condition(pod, "Ready") or {}).get("lastTransitionTime"))
    return since is not None and (now - since).total_seconds() >= min_ready_seconds


def restart_count(pod: dict) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(status.get("restartCount") or 0) for status in statuses)


def matches_labels(labels: dict, match_labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in match_labels.items())


def matches_selector(labels: dict, selector: dict | None) -> bool:
    """A metav1.LabelSelector (matchLabels and matchExpressions); an empty selector matches all."""
    if not selector:
        return True
    if not matches_labels(labels, selector.get("matchLabels") or {}):
        return False
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key")
        operator = expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def set_condition(conditions: list[dict], new: dict, *, now: str) -> list[dict]:
    """Conditions with `new` in place: lastTransitionTime moves only when the status changes.

    lastUpdateTime (where the kind has it) moves whenever reason or message change.
    """
    result = []
    replaced = False
    for condition in conditions:
        if condition.get("type") != new["type"]:
            result.append(condition)
            continue
        replaced = True
        merged = dict(new)
        if condition.get("status") == new.get("status"):
            merged["lastTransitionTime"] = condition.get("lastTransitionTime", now)
            if "lastUpdateTime" in new and (
                condition.get("reason") == new.get("reason")
                and condition.get("message") == new.get("message")
            ):
                merged["lastUpdateTime"] = condition.get("lastUpdateTime", now)
        result.append(merged)
    if not replaced:
        result.append(new)
    return result


def get_condition(conditions: list[dict] | None, condition_type: str) -> dict | None:
    for condition in conditions or []:
        if condition.get("type") == condition_type:
            return condition
    return None

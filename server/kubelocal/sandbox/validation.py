"""Validation as the real API server does it, driven by the real schemas of kubernetes-validate.

Three steps, in the server's order:

1. `decode(kind, obj)`: what the server's JSON decoding does. Wrong JSON types give errors.BadRequest
   (`Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct
   field ... of type ...`); unknown fields are dropped, or rejected with errors.BadRequest
   (`strict decoding error: unknown field "spec.foo"`) when the request asks fieldValidation=Strict;
   Secret `stringData` is folded into base64 `data`.
2. `validate(kind, obj)`: the server's semantic checks that kubelocal can trip on (names, required
   fields, unique container names, port ranges, selectors matching templates, restart policies...),
   all failures at once as errors.Invalid (422) with `details.causes`.
3. `validate_update(kind, new, old)`: immutable fields (Service clusterIP, workload selectors, Job
   template, most of a Pod's spec, StatefulSet spec outside the mutable fields, immutable
   ConfigMaps/Secrets, RoleBinding roleRef).

The newest schema set the package ships is loaded once, lazily; per-kind schema lookups are cached.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import pathlib
import re
from collections.abc import Callable
from typing import Any

from kubelocal.sandbox import errors, kinds, selectors

Schema = dict[str, Any]

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_ENV_NAME = re.compile(r"^[^=]+$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_DNS1035_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


# ------------------------------------------------------------------ schemas


@functools.cache
def _definitions() -> dict[str, Schema]:
    """The newest `_definitions.json` kubernetes-validate ships (strict: unknown fields are marked)."""
    import kubernetes_validate.utils

    version = kubernetes_validate.utils.latest_version()
    package = pathlib.Path(kubernetes_validate.utils.__file__).parent
    path = package / "kubernetes-json-schema" / f"v{version}-local-strict" / "_definitions.json"
    return json.loads(path.read_text())["$defs"]


@functools.cache
def schema_version() -> str:
    """The Kubernetes version of the schemas in use, e.g. "1.37.0"."""
    import kubernetes_validate.utils

    return kubernetes_validate.utils.latest_version()


def definitions() -> dict[str, Schema]:
    """All schema definitions by name (`io.k8s.api.core.v1.Pod`...), for the OpenAPI documents."""
    return _definitions()


def resolve(schema: Schema) -> Schema:
    """Follow a `$ref` (`#/$defs/NAME`) to its definition; other schemas are returned as they are."""
    while "$ref" in schema:
        schema = _definitions()[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


@functools.cache
def definition_name(kind: kinds.Kind) -> str:
    """The definition name of a kind (`io.k8s.api.apps.v1.Deployment`)."""
    for name, schema in _definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or ():
            if (gvk.get("group", ""), gvk.get("version"), gvk.get("kind")) == (
                kind.group,
                kind.version,
                kind.kind,
            ):
                return name
    raise errors.ApiError(
        f"no schema for {kind.api_version}/{kind.kind} in kubernetes-validate {schema_version()}"
    )


def schema_for(kind: kinds.Kind) -> tuple[Schema, Callable[[Schema], Schema]]:
    """(the kind's schema, a $ref resolver): what strategic merge patch needs."""
    return _definitions()[definition_name(kind)], resolve


# ------------------------------------------------------------------ decoding

_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _json_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _accepts(schema: Schema, value: Any) -> bool:
    if "oneOf" in schema:
        return any(_accepts(option, value) for option in schema["oneOf"])
    declared = schema.get("type")
    if declared is None or value is None:
        return True
    for name in [declared] if isinstance(declared, str) else declared:
        python_types = _JSON_TYPES.get(name)
        if python_types is None:
            continue
        if isinstance(value, bool) and name != "boolean":
            continue
        if name == "integer" and isinstance(value, float) and value.is_integer():
            return True
        if isinstance(value, python_types):
            return True
    return False


def _go_type(schema: Schema, original: Schema) -> str:
    if "$ref" in original:
        return original["$ref"].rsplit(".", 1)[-1]
    declared = schema.get("type")
    name = (
        declared if isinstance(declared, str) else next((t for t in declared or () if t != "null"), "value")
    )
    return {"integer": "int32", "number": "float64", "boolean": "bool", "object": "map[string]string"}.get(
        name, name
    )


def decode(kind: kinds.Kind, obj: dict, *, field_validation: str = "Ignore") -> list[str]:
    """Check JSON types against the kind's schema and drop unknown fields, in place.

    Returns the warnings (unknown fields) for fieldValidation=Warn; raises errors.BadRequest for a wrong
    type, or for unknown fields when field_validation is "Strict".
    """
    if not isinstance(obj.get("metadata"), dict):
        raise errors.BadRequest(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            "metadata must be an object"
        )
    unknown: list[str] = []
    _decode(obj, _definitions()[definition_name(kind)], "", unknown, kind)
    if unknown and field_validation == "Strict":
        fields = ", ".join(f'unknown field "{field}"' for field in unknown)
        raise errors.BadRequest(f"strict decoding error: {fields}")
    if kind == kinds.SECRETS:
        _fold_string_data(obj)
    return [f'unknown field "{field}"' for field in unknown]


def _decode(value: Any, original: Schema, path: str, unknown: list[str], kind: kinds.Kind) -> None:
    schema = resolve(original)
    if not _accepts(schema, value):
        where = path or kind.kind
        raise errors.BadRequest(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: json: cannot '
            f"unmarshal {_json_type_name(value)} into Go struct field {where} "
            f"of type {_go_type(schema, original)}"
        )
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        required = schema.get("required") or ()
        for key in list(value):
            child_path = f"{path}.{key}" if path else key
            if properties is not None and key in properties:
                child_schema = properties[key]
            elif isinstance(additional, dict):
                child_schema = additional
            elif properties is not None or additional is False:
                unknown.append(child_path)
                del value[key]
                continue
            else:
                continue
            child = value[key]
            if properties is not None and key not in required and _omitted(child, child_schema):
                del value[key]  # as Go's omitempty drops it when the server re-encodes the object
                continue
            _decode(child, child_schema, child_path, unknown, kind)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                _decode(item, items, f"{path}[{index}]", unknown, kind)


def _omitted(value: Any, schema: Schema) -> bool:
    """Whether the real server would drop this field value: null, an empty list, or an empty map."""
    if value is None:
        return True
    if value == []:
        return True
    if value == {}:
        resolved = resolve(schema)
        return "properties" not in resolved and isinstance(resolved.get("additionalProperties"), dict)
    return False


def _fold_string_data(secret: dict) -> None:
    """The real server writes stringData into data (base64) and never returns stringData."""
    string_data = secret.pop("stringData", None) or {}
    data = secret.get("data") or {}
    for key, value in data.items():
        try:
            base64.b64decode(value or "", validate=True)
        except (binascii.Error, ValueError):
            raise errors.BadRequest(
                f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data.{key}'
            ) from None
    for key, value in string_data.items():
        data[key] = base64.b64encode((value or "").encode()).decode()
    if data:
        secret["data"] = data


# ------------------------------------------------------------------ semantic validation


class _Causes:
    def __init__(self) -> None:
        self.items: list[errors.Cause] = []

    def required(self, field: str, detail: str = "") -> None:
        self.items.append(
            errors.Cause("FieldValueRequired", "Required value" + (f": {detail}" if detail else ""), field)
        )

    def invalid(self, field: str, value: Any, detail: str) -> None:
        self.items.append(
            errors.Cause("FieldValueInvalid", f"Invalid value: {_show(value)}: {detail}", field)
        )

    def unsupported(self, field: str, value: Any, supported: tuple[str, ...]) -> None:
        listed = ", ".join(f'"{s}"' for s in supported)
        self.items.append(
            errors.Cause(
                "FieldValueNotSupported",
                f"Unsupported value: {_show(value)}: supported values: {listed}",
                field,
            )
        )

    def duplicate(self, field: str, value: Any) -> None:
        self.items.append(errors.Cause("FieldValueDuplicate", f"Duplicate value: {_show(value)}", field))

    def not_found(self, field: str, value: Any) -> None:
        self.items.append(errors.Cause("FieldValueNotFound", f"Not found: {_show(value)}", field))

    def forbidden(self, field: str, detail: str) -> None:
        self.items.append(errors.Cause("FieldValueForbidden", f"Forbidden: {detail}", field))


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in value.items())
        return "map[string]string{" + inner + "}"
    if isinstance(value, list):
        return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
    return json.dumps(value)


def validate(kind: kinds.Kind, obj: dict) -> None:
    """The real server's semantic checks; errors.Invalid listing every failing field."""
    causes = _Causes()
    metadata = obj["metadata"]
    _check_metadata(kind, metadata, causes)
    checker = _CHECKERS.get(kind.kind)
    if checker is not None:
        checker(obj, causes)
    if causes.items:
        raise errors.invalid(
            kind=kind.kind, group=kind.group, name=metadata.get("name") or "", causes=causes.items
        )


def _check_metadata(kind: kinds.Kind, metadata: dict, causes: _Causes) -> None:
    name = metadata.get("name")
    if not name:
        causes.required("metadata.name", "name or generateName is required")
    elif kind in (kinds.NAMESPACES,):
        if len(name) > 63 or not _DNS1123_LABEL.match(name):
            causes.invalid("metadata.name", name, _LABEL_MESSAGE)
    elif kind == kinds.SERVICES:
        if len(name) > 63 or not _DNS1035_LABEL.match(name):
            causes.invalid("metadata.name", name, _DNS1035_MESSAGE)
    elif kind in (kinds.ROLES, kinds.ROLE_BINDINGS):
        if "/" in name or "%" in name or name in (".", ".."):
            causes.invalid("metadata.name", name, "may not contain '/' or '%'")
    elif len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        causes.invalid("metadata.name", name, _SUBDOMAIN_MESSAGE)
    _check_labels(metadata.get("labels"), "metadata.labels", causes)
    for index, reference in enumerate(metadata.get("ownerReferences") or []):
        for field in ("apiVersion", "kind", "name", "uid"):
            if not (reference or {}).get(field):
                causes.required(f"metadata.ownerReferences[{index}].{field}")


def _check_labels(labels: Any, field: str, causes: _Causes) -> None:
    for key, value in (labels or {}).items():
        prefix, _, name = key.rpartition("/")
        if (
            not name
            or len(name) > 63
            or not _QUALIFIED_NAME.match(name)
            or (prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)))
        ):
            causes.invalid(
                field,
                key,
                "name part must consist of alphanumeric characters, '-', '_' or '.', and "
                "must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            )
        if value is not None and (len(str(value)) > 63 or not _LABEL_VALUE.match(str(value))):
            causes.invalid(
                field,
                value,
                "a valid label must be an empty string or consist of alphanumeric "
                "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
                "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            )


def _check_pod_spec(
    spec: Any,
    path: str,
    causes: _Causes,
    *,
    restart_policies: tuple[str, ...] | None = None,
    restart_required: bool = False,
) -> None:
    if not isinstance(spec, dict):
        causes.required(path)
        return
    volumes: set[str] = set()
    for index, volume in enumerate(spec.get("volumes") or []):
        name = (volume or {}).get("name")
        field = f"{path}.volumes[{index}].name"
        if not name:
            causes.required(field)
        elif name in volumes:
            causes.duplicate(field, name)
        elif len(name) > 63 or not _DNS1123_LABEL.match(name):
            causes.invalid(field, name, _LABEL_MESSAGE)
        volumes.add(name or "")
    containers = spec.get("containers")
    if not containers:
        causes.required(f"{path}.containers")
    names: set[str] = set()
    for group in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(group) or []):
            _check_container(container or {}, f"{path}.{group}[{index}]", names, volumes, causes)
    policy = spec.get("restartPolicy")
    allowed = ("Always", "OnFailure", "Never")
    if policy is not None and policy not in allowed:
        causes.unsupported(f"{path}.restartPolicy", policy, allowed)
    elif restart_policies is not None and policy not in restart_policies:
        if restart_required:
            causes.required(
                f"{path}.restartPolicy", "valid values: " + ", ".join(f'"{p}"' for p in restart_policies)
            )
        else:
            causes.unsupported(f"{path}.restartPolicy", policy, restart_policies)
    dns_policy = spec.get("dnsPolicy")
    dns_allowed = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
    if dns_policy is not None and dns_policy not in dns_allowed:
        causes.unsupported(f"{path}.dnsPolicy", dns_policy, dns_allowed)
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        causes.invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0")


def _check_container(container: dict, path: str, names: set[str], volumes: set[str], causes: _Causes) -> None:
    name = container.get("name")
    if not name:
        causes.required(f"{path}.name")
    elif name in names:
        causes.duplicate(f"{path}.name", name)
    elif len(name) > 63 or not _DNS1123_LABEL.match(name):
        causes.invalid(f"{path}.name", name, _LABEL_MESSAGE)
    names.add(name or "")
    if not container.get("image"):
        causes.required(f"{path}.image")
    port_names: set[str] = set()
    for index, port in enumerate(container.get("ports") or []):
        port = port or {}
        number = port.get("containerPort")
        if number is None:
            causes.required(f"{path}.ports[{index}].containerPort")
        elif not isinstance(number, int) or not 1 <= number <= 65535:
            causes.invalid(
                f"{path}.ports[{index}].containerPort", number, "must be between 1 and 65535, inclusive"
            )
        port_name = port.get("name")
        if port_name:
            if (
                len(port_name) > 15
                or not _IANA_SVC_NAME.match(port_name)
                or not re.search("[a-z]", port_name)
            ):
                causes.invalid(
                    f"{path}.ports[{index}].name",
                    port_name,
                    "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
                    if len(port_name) <= 15
                    else "must be no more than 15 characters",
                )
            elif port_name in port_names:
                causes.duplicate(f"{path}.ports[{index}].name", port_name)
            port_names.add(port_name)
        protocol = port.get("protocol")
        if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
            causes.unsupported(f"{path}.ports[{index}].protocol", protocol, ("SCTP", "TCP", "UDP"))
    for index, env in enumerate(container.get("env") or []):
        env_name = (env or {}).get("name")
        if not env_name:
            causes.required(f"{path}.env[{index}].name")
        elif not _ENV_NAME.match(env_name):
            causes.invalid(
                f"{path}.env[{index}].name",
                env_name,
                "a valid environment variable name must "
                "consist only of printable ASCII characters other than '='",
            )
    mount_paths: set[str] = set()
    for index, mount in enumerate(container.get("volumeMounts") or []):
        mount = mount or {}
        if not mount.get("name"):
            causes.required(f"{path}.volumeMounts[{index}].name")
        elif mount["name"] not in volumes:
            causes.not_found(f"{path}.volumeMounts[{index}].name", mount["name"])
        mount_path = mount.get("mountPath")
        if not mount_path:
            causes.required(f"{path}.volumeMounts[{index}].mountPath")
        elif mount_path in mount_paths:
            causes.invalid(f"{path}.volumeMounts[{index}].mountPath", mount_path, "must be unique")
        mount_paths.add(mount_path or "")
    policy = container.get("imagePullPolicy")
    if policy is not None and policy not in ("Always", "IfNotPresent", "Never"):
        causes.unsupported(f"{path}.imagePullPolicy", policy, ("Always", "IfNotPresent", "Never"))


def _check_pod(obj: dict, causes: _Causes) -> None:
    _check_pod_spec(obj.get("spec"), "spec", causes)


def _check_workload(obj: dict, causes: _Causes, *, kind_word: str) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        causes.required("spec")
        return
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        causes.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    selector = spec.get("selector")
    template = spec.get("template")
    if not isinstance(template, dict):
        causes.required("spec.template")
        return
    labels = (template.get("metadata") or {}).get("labels") or {}
    _check_labels(labels, "spec.template.metadata.labels", causes)
    if not selector:
        causes.required("spec.selector")
    elif not selector.get("matchLabels") and not selector.get("matchExpressions"):
        causes.invalid("spec.selector", selector, f"empty selector is invalid for {kind_word}")
    else:
        try:
            matches = selectors.matches_label_selector(selector, labels)
        except errors.BadRequest as problem:
            causes.invalid("spec.selector", selector, problem.message)
            matches = True
        if not matches:
            causes.invalid(
                "spec.template.metadata.labels", labels, "`selector` does not match template `labels`"
            )
    _check_pod_spec(template.get("spec"), "spec.template.spec", causes, restart_policies=("Always",))


def _check_deployment(obj: dict, causes: _Causes) -> None:
    _check_workload(obj, causes, kind_word="deployment")
    strategy = (obj.get("spec") or {}).get("strategy") or {}
    if strategy.get("type") not in (None, "RollingUpdate", "Recreate"):
        causes.unsupported("spec.strategy.type", strategy.get("type"), ("Recreate", "RollingUpdate"))
    if strategy.get("type") == "Recreate" and strategy.get("rollingUpdate"):
        causes.forbidden(
            "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
        )


def _check_replica_set(obj: dict, causes: _Causes) -> None:
    _check_workload(obj, causes, kind_word="replicaset")


def _check_stateful_set(obj: dict, causes: _Causes) -> None:
    _check_workload(obj, causes, kind_word="statefulset")
    policy = (obj.get("spec") or {}).get("podManagementPolicy")
    if policy not in (None, "OrderedReady", "Parallel"):
        causes.unsupported("spec.podManagementPolicy", policy, ("OrderedReady", "Parallel"))


def _check_job(obj: dict, causes: _Causes) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("template"), dict):
        causes.required("spec.template")
        return
    for field in (
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
    ):
        value = spec.get(field)
        if isinstance(value, int) and value < 0:
            causes.invalid(f"spec.{field}", value, "must be greater than or equal to 0")
    labels = (spec["template"].get("metadata") or {}).get("labels") or {}
    selector = spec.get("selector")
    if selector and not selectors.matches_label_selector(selector, labels):
        causes.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")
    _check_pod_spec(
        spec["template"].get("spec"),
        "spec.template.spec",
        causes,
        restart_policies=("OnFailure", "Never"),
        restart_required=True,
    )


def _check_service(obj: dict, causes: _Causes) -> None:
    spec = obj.get("spec") or {}
    service_type = spec.get("type", "ClusterIP")
    types = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
    if service_type not in types:
        causes.unsupported("spec.type", service_type, types)
    if service_type == "ExternalName":
        if not spec.get("externalName"):
            causes.required("spec.externalName")
        return
    ports = spec.get("ports") or []
    if not ports and spec.get("clusterIP") != "None":
        causes.required("spec.ports")
    names: set[str] = set()
    for index, port in enumerate(ports):
        port = port or {}
        name = port.get("name")
        if len(ports) > 1 and not name:
            causes.required(f"spec.ports[{index}].name")
        elif name:
            if name in names:
                causes.duplicate(f"spec.ports[{index}].name", name)
            elif len(name) > 63 or not _DNS1123_LABEL.match(name):
                causes.invalid(f"spec.ports[{index}].name", name, _LABEL_MESSAGE)
            names.add(name)
        number = port.get("port")
        if number is None:
            causes.required(f"spec.ports[{index}].port")
        elif not isinstance(number, int) or not 1 <= number <= 65535:
            causes.invalid(f"spec.ports[{index}].port", number, "must be between 1 and 65535, inclusive")
        target = port.get("targetPort")
        if isinstance(target, int) and not 1 <= target <= 65535:
            causes.invalid(
                f"spec.ports[{index}].targetPort", target, "must be between 1 and 65535, inclusive"
            )
        elif (
            isinstance(target, str)
            and target
            and not target.isdigit()
            and (len(target) > 15 or not _IANA_SVC_NAME.match(target))
        ):
            causes.invalid(
                f"spec.ports[{index}].targetPort",
                target,
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            )
        protocol = port.get("protocol")
        if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
            causes.unsupported(f"spec.ports[{index}].protocol", protocol, ("SCTP", "TCP", "UDP"))
    affinity = spec.get("sessionAffinity")
    if affinity not in (None, "None", "ClientIP"):
        causes.unsupported("spec.sessionAffinity", affinity, ("ClientIP", "None"))


def _check_config_data(obj: dict, causes: _Causes) -> None:
    for field in ("data", "binaryData"):
        for key in obj.get(field) or {}:
            if len(key) > 253 or not _CONFIG_KEY.match(key):
                causes.invalid(
                    f"{field}[{key}]",
                    key,
                    "a valid config key must consist of alphanumeric "
                    "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
                    "regex used for validation is '[-._a-zA-Z0-9]+')",
                )


def _check_role(obj: dict, causes: _Causes) -> None:
    for index, rule in enumerate(obj.get("rules") or []):
        if not (rule or {}).get("verbs"):
            causes.required(f"rules[{index}].verbs", "verbs must contain at least one value")


def _check_role_binding(obj: dict, causes: _Causes) -> None:
    reference = obj.get("roleRef") or {}
    if not reference.get("name"):
        causes.required("roleRef.name")
    if reference.get("kind") not in ("Role", "ClusterRole"):
        causes.unsupported("roleRef.kind", reference.get("kind", ""), ("Role", "ClusterRole"))
    for index, subject in enumerate(obj.get("subjects") or []):
        if not (subject or {}).get("name"):
            causes.required(f"subjects[{index}].name")
        if (subject or {}).get("kind") not in ("ServiceAccount", "User", "Group"):
            causes.unsupported(
                f"subjects[{index}].kind",
                (subject or {}).get("kind", ""),
                ("ServiceAccount", "User", "Group"),
            )


_CHECKERS: dict[str, Callable[[dict, _Causes], None]] = {
    "Pod": _check_pod,
    "Deployment": _check_deployment,
    "ReplicaSet": _check_replica_set,
    "StatefulSet": _check_stateful_set,
    "Job": _check_job,
    "Service": _check_service,
    "ConfigMap": _check_config_data,
    "Secret": _check_config_data,
    "Role": _check_role,
    "RoleBinding": _check_role_binding,
}


# ------------------------------------------------------------------ updates

_POD_MUTABLE = (
    "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
    "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
    "previously negative)"
)
_STATEFUL_SET_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _without_images(spec: dict) -> dict:
    spec = json.loads(json.dumps(spec))
    for group in ("containers", "initContainers"):
        for container in spec.get(group) or []:
            if isinstance(container, dict):
                container.pop("image", None)
    for field in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        spec.pop(field, None)
    return spec


def validate_update(kind: kinds.Kind, new: dict, old: dict) -> None:
    """Immutable fields; errors.Invalid naming the field (`...: field is immutable`)."""
    causes = _Causes()
    new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    if kind == kinds.SERVICES:
        if (
            old_spec.get("clusterIP")
            and new_spec.get("clusterIP") != old_spec.get("clusterIP")
            and (new_spec.get("type") != "ExternalName")
        ):
            causes.invalid("spec.clusterIPs[0]", new_spec.get("clusterIP"), "may not change once set")
    elif kind in (kinds.DEPLOYMENTS, kinds.REPLICA_SETS, kinds.STATEFUL_SETS, kinds.JOBS):
        if new_spec.get("selector") != old_spec.get("selector"):
            causes.invalid("spec.selector", new_spec.get("selector"), "field is immutable")
        if kind == kinds.JOBS and new_spec.get("template") != old_spec.get("template"):
            causes.invalid("spec.template", "core.PodTemplateSpec{...}", "field is immutable")
        if kind == kinds.STATEFUL_SETS:
            rest_new = {k: v for k, v in new_spec.items() if k not in _STATEFUL_SET_MUTABLE}
            rest_old = {k: v for k, v in old_spec.items() if k not in _STATEFUL_SET_MUTABLE}
            if rest_new != rest_old:
                causes.forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', "
                    "'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
                    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                )
    elif kind == kinds.PODS:
        if _without_images(new_spec) != _without_images(old_spec):
            causes.items.append(errors.Cause("FieldValueForbidden", _POD_MUTABLE.partition(": ")[2], "spec"))
    elif kind in (kinds.CONFIG_MAPS, kinds.SECRETS):
        if old.get("immutable"):
            if new.get("immutable") is not True:
                causes.forbidden("immutable", "field is immutable when `immutable` is set")
            for field in ("data", "binaryData"):
                if new.get(field) != old.get(field):
                    causes.forbidden(field, "field is immutable when `immutable` is set")
        if kind == kinds.SECRETS and new.get("type") != old.get("type"):
            causes.invalid("type", new.get("type"), "field is immutable")
    elif kind == kinds.ROLE_BINDINGS and new.get("roleRef") != old.get("roleRef"):
        causes.invalid("roleRef", new.get("roleRef"), "cannot change roleRef")
    if causes.items:
        raise errors.invalid(
            kind=kind.kind, group=kind.group, name=new["metadata"].get("name") or "", causes=causes.items
        )

"""Load a kubeconfig: which cluster, which credentials, which namespace.

The official `kubernetes` package reads the file (merged `KUBECONFIG` paths, inline or file
certificates, tokens, exec and auth-provider plugins); this module turns what it found into a
`Cluster` that `requesting.Client` uses with aiohttp. Loading is blocking (an exec plugin runs a
process): call `load` from a thread in async code.

Precedence, as kubectl: `kubeconfig` argument, else `$KUBECONFIG`, else `~/.kube/config`;
`context` argument, else the file's current-context; `namespace` argument, else the context's
namespace, else "default".
"""

from __future__ import annotations

import dataclasses
import os
import ssl
from collections.abc import Callable
from pathlib import Path

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config import kube_config

from kubelocal.kube import errors


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where the API server is and how to authenticate; `authorization()` gives the header value.

    `authorization` runs the kubeconfig's exec plugin again when its token expired (about hourly
    for cloud logins), which blocks the event loop for that moment; otherwise it is a lookup.
    """

    server: str
    context: str
    namespace: str
    ssl_context: ssl.SSLContext | None = dataclasses.field(repr=False, default=None)
    authorization: Callable[[], str | None] = dataclasses.field(repr=False, default=lambda: None)


def default_kubeconfig() -> str:
    return os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


def load(*, kubeconfig: str | os.PathLike[str] | None = None, context: str | None = None,
         namespace: str | None = None) -> Cluster:  # fmt: skip
    """The `Cluster` of `context` in `kubeconfig`; see the module docstring for the defaults.

    Raises `KubeconfigError` when the file is missing or malformed, the context does not exist
    (naming the ones that do), or its credentials cannot be read.
    """
    path = str(kubeconfig) if kubeconfig is not None else default_kubeconfig()
    existing = [part for part in path.split(os.pathsep) if part and Path(part).expanduser().exists()]
    if not existing:
        raise errors.KubeconfigError(
            f"No kubeconfig found at {path}. Point to one with --kubeconfig or KUBECONFIG, "
            "or create it with your cluster's tooling (e.g. `kubelocal sandbox up`)."
        )
    try:
        merged = kube_config.KubeConfigMerger(path).config
        known = {str(entry["name"]): entry.value for entry in merged["contexts"] or []}
        current = merged.safe_get("current-context")
    except (k8s_config.ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise errors.KubeconfigError(
            f"The kubeconfig {path} cannot be read ({error}). Fix it or point to another with --kubeconfig."
        ) from error
    chosen = context or current
    if not chosen:
        raise errors.KubeconfigError(
            f"The kubeconfig {path} has no current context. Choose one with --context "
            f"({', '.join(sorted(known)) or 'it defines none'})."
        )
    if chosen not in known:
        raise errors.KubeconfigError(
            f"Context {chosen!r} is not in the kubeconfig {path}; it has "
            f"{', '.join(sorted(known)) or 'none'}. Pass one of those with --context."
        )
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(
            config_file=path, context=chosen, client_configuration=configuration, persist_config=False
        )
    except Exception as error:  # the loader raises many kinds (exec plugin failures, bad base64...)
        raise errors.KubeconfigError(
            f"The credentials of context {chosen!r} in {path} cannot be loaded ({error}). "
            "Log in again with your cluster's tooling, or choose another --context."
        ) from error
    chosen_namespace = namespace or (known[chosen].get("context") or {}).get("namespace") or "default"
    return Cluster(
        server=configuration.host.rstrip("/"),
        context=chosen,
        namespace=chosen_namespace,
        ssl_context=_ssl_context(configuration),
        authorization=lambda: _authorization(configuration),
    )


def _authorization(configuration: k8s_client.Configuration) -> str | None:
    # The official loader stores the token under "BearerToken" (older versions: "authorization").
    token = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
        "authorization"
    )
    if token:
        return str(token)
    if configuration.username or configuration.password:
        return str(configuration.get_basic_auth_token())
    return None


def _ssl_context(configuration: k8s_client.Configuration) -> ssl.SSLContext | None:
    if not configuration.host.startswith("https:"):
        return None
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    return context

"""Restore mode, run by the in-cluster restore Job: `python agent.pyz restore ...` or
`python -m kubelocal_agent.restore ...`.

It polls the agent's status endpoint (`GET http://<agent pod IP>:<status port>/status`, the
agent's `serving.Agent.status()`), and once no engine session has been connected for `--grace`
seconds (or no agent pod runs for that long; see `restores.Watch` for an agent that never
answers, which gets `--blind-grace`) it:

1. reads the saved workload from the Secret `--secret` (see `restores` for its format); a Secret
   already gone means the engine restored on its own, so only the clean-up remains;
2. puts the workload back (PUT of the saved spec, or delete-and-recreate for a bare pod);
3. deletes every object labelled `--selector` (Secrets, ConfigMaps, then Jobs: this Job last,
   whose ServiceAccount, Role and RoleBinding the garbage collector removes with it), exits 0.

If step 2 fails it exits 1 without cleaning up, so the Job's retry finds the Secret again.
The agent's address is `--status-url`, or found through the API from the agent pod's label
(`--agent-selector`, `--status-port`), since the pod IP changes when the pod is replaced.
Options fall back to `KUBELOCAL_RESTORE_<OPTION>` environment variables.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from kubelocal_agent import errors, kubeapi, restores, serving

log = logging.getLogger("kubelocal_agent.restore")

ENV_PREFIX = "KUBELOCAL_RESTORE_"
# The agent is a pod IP in the cluster: a proxy from the environment could only get in the way.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch_status(url: str, *, timeout: float = 3) -> dict[str, Any] | None:
    """The agent's status, or None if it cannot be reached or answers nonsense."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            status = json.loads(response.read())
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def discover_status_url(client: kubeapi.Client, *, namespace: str, selector: str, port: int) -> str | None:
    """The status URL of the running agent pod matching `selector`, or None if there is none.

    Raises `errors.KubernetesApiError` when the pods cannot be listed: that says nothing about the
    session, so the caller must not count it as "no agent".
    """
    pods = client.request("GET", f"/api/v1/namespaces/{namespace}/pods", query={"labelSelector": selector})
    for pod in pods.get("items", []):
        status = pod.get("status") or {}
        ip = status.get("podIP")
        if (
            ip
            and status.get("phase") == "Running"
            and not (pod.get("metadata") or {}).get("deletionTimestamp")
        ):
            host = f"[{ip}]" if ":" in ip else ip
            return f"http://{host}:{port}/status"
    return None


def restore_workload(
    client: kubeapi.Client,
    saved: restores.Saved,
    *,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 30,
) -> None:
    """Put the saved workload back. Retries conflicts (409) up to `attempts` times.

    Raises `errors.RestoreError` if the workload was deleted meanwhile (nothing to restore onto)
    or the API keeps refusing.
    """
    if saved.kind == "Pod":
        _delete(client, saved.path, query={"gracePeriodSeconds": "0"})
        collection = saved.path.rsplit("/", 1)[0]
        for _ in range(attempts):
            try:
                client.request("POST", collection, body=restores.recreated_pod(saved))
                return
            except errors.KubernetesApiError as error:
                if error.status != 409:  # 409: the agent pod is still terminating.
                    raise
            sleep(1)
        raise errors.RestoreError(f"pod {saved.name} could not be recreated: the old one never went away")
    for _ in range(attempts):
        try:
            current = client.request("GET", saved.path)
        except errors.KubernetesApiError as error:
            if error.status == 404:
                raise errors.RestoreError(
                    f"{saved.kind} {saved.namespace}/{saved.name} no longer exists; nothing to restore onto"
                ) from None
            raise
        try:
            client.request("PUT", saved.path, body=restores.restored_object(saved, current))
            return
        except errors.KubernetesApiError as error:
            if error.status != 409:  # 409: changed since we read it; read again.
                raise
        sleep(0.5)
    raise errors.RestoreError(f"{saved.kind} {saved.name} kept changing; restore it by hand")


def clean_up(client: kubeapi.Client, *, namespace: str, selector: str) -> list[str]:
    """Delete every kubelocal object labelled `selector`; returns the collections deleted from.

    An empty `selector` would delete everything in the namespace, so it is refused.
    """
    if not selector.strip():
        raise errors.RestoreError("refusing to clean up with an empty label selector")
    done = []
    for template in restores.CLEANUP_COLLECTIONS:
        path = template.format(namespace=namespace)
        query = {"labelSelector": selector, "propagationPolicy": "Background"}
        try:
            _delete(client, path, query=query)
            done.append(path)
        except errors.KubernetesApiError as error:
            # Keep going: one kind we may not delete must not leave the others behind.
            log.warning("clean-up of %s failed: %s", path, error)
    return done


def _delete(client: kubeapi.Client, path: str, *, query: dict[str, str]) -> None:
    try:
        client.request("DELETE", path, query=query)
    except errors.KubernetesApiError as error:
        if error.status != 404:
            raise


def run(
    args: argparse.Namespace,
    *,
    client: kubeapi.Client,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Wait for the session to be gone, restore, clean up. Returns the exit code."""
    watch = restores.Watch(grace=args.grace, blind_grace=args.blind_grace)
    last_seen = ""
    while True:
        try:
            url = args.status_url or discover_status_url(
                client, namespace=args.namespace, selector=args.agent_selector, port=args.status_port
            )
        except errors.KubernetesApiError as error:
            # An API hiccup is no evidence the session is gone: skip this poll, never restore on it.
            log.warning("cannot look for the agent pod: %s", error)
            sleep(args.poll)
            continue
        status = fetch_status(url) if url else None
        # Transitions only: a poll every few seconds must not flood the Job's log, but whoever
        # reads it must see whether the agent answered and what it said.
        seen = restores.describe_poll(url, status)
        if seen != last_seen:
            log.info("%s", seen)
            last_seen = seen
        if watch.observe(clock(), status, agent_present=url is not None):
            break
        sleep(args.poll)
    log.info("no engine session for %.0f s: restoring", args.grace)
    try:
        secret = client.request("GET", f"/api/v1/namespaces/{args.namespace}/secrets/{args.secret}")
    except errors.KubernetesApiError as error:
        if error.status != 404:
            log.error("cannot read the restore Secret: %s", error)
            return 1
        log.info("the restore Secret is gone: the engine restored the workload already")
    else:
        try:
            saved = restores.saved_from_secret(secret, namespace=args.namespace)
            restore_workload(client, saved, sleep=sleep)
        except errors.RestoreError as error:
            log.error("restore failed: %s", error)
            return 1
        log.info("restored %s %s/%s", saved.kind, saved.namespace, saved.name)
    clean_up(client, namespace=args.namespace, selector=args.selector)
    log.info("removed the kubelocal objects labelled %s", args.selector)
    return 0


def parser() -> argparse.ArgumentParser:
    env = os.environ
    result = argparse.ArgumentParser(prog="kubelocal-agent restore", description=__doc__.split("\n\n")[0])
    result.add_argument("--status-url", default=env.get(ENV_PREFIX + "STATUS_URL"))
    result.add_argument("--agent-selector", default=env.get(ENV_PREFIX + "AGENT_SELECTOR", ""))
    result.add_argument(
        "--status-port",
        type=int,
        default=int(env.get(ENV_PREFIX + "STATUS_PORT", serving.DEFAULT_STATUS_PORT)),
    )
    result.add_argument("--secret", default=env.get(ENV_PREFIX + "SECRET"))
    result.add_argument(
        "--selector", default=env.get(ENV_PREFIX + "SELECTOR"), help="label selector to clean up"
    )
    result.add_argument("--namespace", default=env.get(ENV_PREFIX + "NAMESPACE"))
    result.add_argument("--grace", type=float, default=float(env.get(ENV_PREFIX + "GRACE", "60")))
    result.add_argument("--poll", type=float, default=float(env.get(ENV_PREFIX + "POLL", "5")))
    result.add_argument(
        "--blind-grace",
        type=float,
        default=float(env[ENV_PREFIX + "BLIND_GRACE"]) if ENV_PREFIX + "BLIND_GRACE" in env else None,
        help="how long an agent pod that never answered may stay silent (default: 10 x grace)",
    )
    result.add_argument("--api-url", default=env.get(ENV_PREFIX + "API_URL"), help="default: in-cluster")
    return result


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arg_parser = parser()
    args = arg_parser.parse_args(argv)
    if not args.namespace:
        namespace_file = kubeapi.SERVICE_ACCOUNT_DIR / "namespace"
        args.namespace = namespace_file.read_text().strip() if namespace_file.exists() else None
    missing = [name for name in ("secret", "selector", "namespace") if not getattr(args, name)]
    if not args.status_url and not args.agent_selector:
        missing.append("status-url or agent-selector")
    if missing:
        arg_parser.error(f"missing: {', '.join('--' + name for name in missing)}")
    try:
        client = kubeapi.Client(base_url=args.api_url) if args.api_url else kubeapi.Client.in_cluster()
    except errors.RestoreError as error:
        arg_parser.error(str(error))
    return run(args, client=client)


if __name__ == "__main__":
    sys.exit(main())

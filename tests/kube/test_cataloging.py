"""The cluster catalog: answers at once, reads in the background, caches, keeps good names.

Aspects: the first snapshot is empty and starts one read; a read in progress is never waited for
nor started twice; a good snapshot is reused until the cache time passes; a failed read is retried
after the retry time, keeping the names of the last good read; a read that raises becomes an error
snapshot; without a kubeconfig nothing is read or started; a snapshot survives the JSON trip from
the child process that reads, and the child reports a broken kubeconfig; focused on a connected
session, the session's namespace, services and volumes replace the catalog's for that namespace,
other namespaces' services stay, and unknown volumes fall back to the catalog's. (Reading a real API
server is covered end to end with a fake one in test_completion.)
"""

from __future__ import annotations

import threading

from kubelocal.kube import cataloging


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Reader:
    """A read that the test releases by hand, counting calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.results: list[cataloging.Snapshot | Exception] = []

    def __call__(self) -> cataloging.Snapshot:
        self.calls += 1
        self.release.wait(5)
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


SHOP = cataloging.Snapshot(
    context="ctx",
    namespace="shop",
    namespaces=("shop",),
    services=(cataloging.Service(name="cart", namespace="shop"),),
)


def test_answers_at_once_and_reads_once_in_the_background():
    reader, clock = Reader(), Clock()
    reader.results = [SHOP]
    catalog = cataloging.ClusterCatalog(read=reader, clock=clock)
    assert catalog.snapshot() == cataloging.EMPTY
    assert catalog.snapshot() == cataloging.EMPTY  # still reading: not waited for, not started again
    assert reader.calls == 1
    reader.release.set()
    assert catalog.wait(5)
    assert catalog.snapshot().services == SHOP.services
    assert reader.calls == 1


def test_good_names_are_reused_until_the_cache_time_passes():
    reader, clock = Reader(), Clock()
    reader.release.set()
    reader.results = [SHOP, SHOP]
    catalog = cataloging.ClusterCatalog(read=reader, clock=clock, cache_seconds=60)
    catalog.refresh()
    catalog.wait(5)
    clock.now += 59
    catalog.snapshot()
    assert reader.calls == 1
    clock.now += 2
    catalog.snapshot()
    catalog.wait(5)
    assert reader.calls == 2


def test_a_failed_read_keeps_the_last_names_and_is_retried_sooner():
    reader, clock = Reader(), Clock()
    reader.release.set()
    failure = cataloging.Snapshot(error="cannot read the cluster")
    reader.results = [SHOP, failure, RuntimeError("bug in reading")]
    catalog = cataloging.ClusterCatalog(read=reader, clock=clock, cache_seconds=60, retry_seconds=10)
    catalog.refresh()
    catalog.wait(5)
    clock.now += 61
    catalog.snapshot()
    catalog.wait(5)
    kept = catalog.snapshot()
    assert kept.error == "cannot read the cluster"
    assert kept.services == SHOP.services
    clock.now += 11
    catalog.snapshot()
    catalog.wait(5)
    assert reader.calls == 3
    after_bug = catalog.snapshot()
    assert after_bug.error is not None and "bug in reading" in after_bug.error
    assert after_bug.services == SHOP.services


def test_updates_are_reported():
    reported: list[cataloging.Snapshot] = []
    catalog = cataloging.ClusterCatalog(read=lambda: SHOP, on_update=reported.append)
    catalog.refresh()
    catalog.wait(5)
    assert [snapshot.services for snapshot in reported] == [SHOP.services]


def test_without_a_kubeconfig_nothing_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    assert cataloging.kubeconfig_paths() == []
    snapshot = cataloging.read_cluster(timeout=1)
    assert snapshot.error == "no kubeconfig file"
    assert snapshot.services == ()


def test_an_unloadable_kubeconfig_is_an_error_snapshot(monkeypatch, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("this: is not: a kubeconfig\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    snapshot = cataloging.read_cluster(timeout=1)
    assert snapshot.error is not None and snapshot.error.startswith("cannot load the kubeconfig")


def test_a_snapshot_survives_the_trip_from_the_child_process():
    snapshot = cataloging.Snapshot(
        context="c",
        namespace="shop",
        namespaces=("default", "shop"),
        services=(
            cataloging.Service(
                name="cart",
                namespace="shop",
                ports=(cataloging.ServicePort(8080, "http"),),
                cluster_ip="10.0.0.1",
            ),
        ),
        volumes=("data",),
        read_at=12.5,
        error=None,
    )
    assert cataloging.snapshot_from_json(cataloging.snapshot_to_json(snapshot)) == snapshot


def test_the_child_reader_starts_nothing_without_a_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    reader = cataloging.ChildReader(timeout=lambda: 1.0)
    assert reader() == cataloging.Snapshot(error="no kubeconfig file")


def test_the_child_reader_reports_a_broken_kubeconfig(monkeypatch, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("this: is not: a kubeconfig\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    snapshot = cataloging.ChildReader(timeout=lambda: 1.0)()
    assert snapshot.error is not None and snapshot.error.startswith("cannot load the kubeconfig")


def _service(name: str, namespace: str, port: int = 80) -> cataloging.Service:
    return cataloging.Service(name=name, namespace=namespace, ports=(cataloging.ServicePort(port),))


def test_focused_on_a_session_its_namespace_services_and_volumes_come_first():
    read = cataloging.Snapshot(
        context="dev",
        namespace="default",
        namespaces=("default", "shop"),
        services=(_service("kubernetes", "default", 443), _service("greeter", "shop", 81)),
        volumes=("data",),
        read_at=5.0,
    )
    focused = cataloging.focused(
        read,
        context="dev",
        namespace="shop",
        services=(_service("greeter", "shop"), _service("catalog", "shop")),
        volumes=("message", "code"),
        now=9.0,
    )
    assert focused.namespace == "shop"
    assert [s.name for s in focused.services_in(None)] == ["greeter", "catalog"]
    assert focused.service("greeter", None).ports[0].port == 80  # the session's, not the stale read
    assert [s.name for s in focused.services_in("default")] == ["kubernetes"]
    assert focused.volumes == ("code", "message")
    assert focused.read_at == 5.0


def test_focused_without_known_volumes_keeps_the_catalogs_only_for_the_same_namespace():
    unread = cataloging.EMPTY
    focused = cataloging.focused(
        unread,
        context="dev",
        namespace="shop",
        services=(_service("greeter", "shop"),),
        volumes=None,
        now=9.0,
    )
    assert focused.namespaces == ("shop",) and focused.volumes == ()
    assert focused.read_at == 9.0  # the session's names are there: completion need not wait
    same = cataloging.Snapshot(namespace="shop", volumes=("data",), read_at=1.0)
    kept = cataloging.focused(same, context="dev", namespace="shop", services=(), volumes=None, now=9.0)
    assert kept.volumes == ("data",)

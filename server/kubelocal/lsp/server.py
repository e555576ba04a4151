"""The language server object: state shared by the features, and the wiring of feature modules.

Each feature lives in its own module with a `register(server)` function (`syncing`: open, change,
close and diagnostics; `completing`; `hovering`; `fixing`: quick fixes; `outlining`: document
symbols; `configuring`: settings and start-up; `commanding`: the `kubelocal.server.*` commands).
Commands run through `executing.CommandProtocol`, which hands them their request's params and
lets `$/cancelRequest` cancel them.

The server keeps, per open document it serves, the check of its latest version (`checked`), computed
once per version off the event loop in one worker thread, so a large document never stalls other
requests, and a check for a version that is already outdated is skipped before it starts. Checks are
incremental (`kubelocal.config.incremental`, one checker per document): a keystroke re-checks the
chunk it changed; the whole-document model (hover, symbols) is built from the text on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import text_document

import kubelocal
from kubelocal.config import checking, incremental, model, problems, schema
from kubelocal.kube import cataloging
from kubelocal.lsp import collecting, diagnostics, executing, hovers, positions, schemas, settings

logger = logging.getLogger(__name__)

TOO_LARGE_CODE = "file-too-large"
CHECK_FAILED_CODE = "check-failed"


@dataclass(frozen=True)
class Checked:
    """The check of one version of a document, with its diagnostics in the client's units."""

    uri: str
    version: int | None
    index: positions.TextIndex
    result: checking.CheckResult | None
    diagnostics: list[types.Diagnostic]


class KubelocalLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            name="kubelocal-lsp",
            version=kubelocal.__version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=executing.CommandProtocol,
        )
        self.settings = settings.Settings()
        self.schema = schema.load_schema()
        self.sections = schemas.section_shapes(self.schema)
        self.cluster_reader = cataloging.ChildReader(timeout=lambda: self.settings.cluster_timeout_seconds)
        self.catalog = cataloging.ClusterCatalog(read=self._read_cluster, on_update=self._catalog_updated)
        self.loop: asyncio.AbstractEventLoop | None = None  # set once running, for other threads' news
        self.pending_diagnostics: dict[str, asyncio.Task[None]] = {}
        self.published: set[str] = set()  # documents whose diagnostics the client shows
        # The hook for hover's "when connected, expands to": set by the connection feature.
        self.expand_token: hovers.Expand | None = None
        # The hook for completion's live names while connected: set by the connection feature.
        self.focus_on_session: Callable[[cataloging.Snapshot], cataloging.Snapshot] | None = None
        # What other features start once the client said `initialized` (`configuring` runs them).
        self.after_initialized: list[Callable[[], None]] = []
        self._indexes: dict[str, tuple[int | None, positions.TextIndex]] = {}
        self._checked: dict[str, Checked] = {}
        # Per document: the chunks' problems of its last check, so a change re-checks only its chunk.
        self._checkers: dict[str, incremental.IncrementalChecker] = {}
        self._checking: dict[tuple[str, int | None], asyncio.Future[Checked | None]] = {}
        self._check_pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="kubelocal-check"
        )
        self.idle_collection = collecting.IdleCollection()

    # -- talking to the client ------------------------------------------------------------------

    def log(self, message: str, *, level: types.MessageType = types.MessageType.Info) -> None:
        """Log to the client's output (window/logMessage); stdout is the protocol channel."""
        self.window_log_message(types.LogMessageParams(type=level, message=message))

    @property
    def encoding(self) -> str:
        encoding = self.workspace.position_encoding if self.protocol.workspace is not None else None
        return str(encoding or positions.UTF16)

    # -- documents ------------------------------------------------------------------------------

    def document(self, uri: str) -> text_document.TextDocument | None:
        """The open document at `uri` if the server serves it (our file name or a configured glob)."""
        document = self.workspace.text_documents.get(uri)
        if document is None or not settings.applies_to(uri, self.settings):
            return None
        return document

    def text_index(self, uri: str) -> positions.TextIndex | None:
        """The latest text of a served document, indexed for positions (cached per version)."""
        document = self.document(uri)
        if document is None:
            return None
        cached = self._indexes.get(uri)
        if cached is not None and cached[0] == document.version and cached[1].encoding == self.encoding:
            return cached[1]
        index = positions.TextIndex(document.source, encoding=self.encoding)
        self._indexes[uri] = (document.version, index)
        return index

    def forget(self, uri: str) -> None:
        """Drop what is kept about a document (it was closed)."""
        self._indexes.pop(uri, None)
        self._checked.pop(uri, None)
        self._checkers.pop(uri, None)
        pending = self.pending_diagnostics.pop(uri, None)
        if pending is not None:
            pending.cancel()

    def is_current(self, uri: str, version: int | None) -> bool:
        document = self.document(uri)
        return document is not None and document.version == version

    async def checked(self, uri: str) -> Checked | None:
        """The check of the document's current version (None when the document is not served).

        Runs in the check thread; concurrent callers for one version share one check. When the
        document changes while it is being checked, the new version is checked (a few times at most:
        under a storm of changes the caller gets None rather than stale positions).
        """
        for _ in range(3):
            document = self.document(uri)
            if document is None:
                return None
            version = document.version
            cached = self._checked.get(uri)
            if cached is not None and cached.version == version:
                return cached
            result = await self._check_once(uri, version)
            self.idle_collection.touch(asyncio.get_running_loop())
            if result is not None and self.is_current(uri, result.version):
                self._checked[uri] = result
                return result
        return None

    async def checked_model(self, uri: str) -> tuple[Checked | None, model.ConfigModel | None]:
        """The check of the document's current version and its model (None when there is none).

        The model of an incremental check is built from the text on first use: in the check thread,
        so a large document does not stall the event loop, and only when a feature asks for it.
        """
        checked = await self.checked(uri)
        if checked is None or checked.result is None:
            return checked, None
        result = checked.result
        loop = asyncio.get_running_loop()
        return checked, await loop.run_in_executor(self._check_pool, self._build_model, result)

    @staticmethod
    def _build_model(result: checking.CheckResult) -> model.ConfigModel | None:
        with collecting.paused_then_frozen():
            return result.model

    async def _check_once(self, uri: str, version: int | None) -> Checked | None:
        key = (uri, version)
        running = self._checking.get(key)
        if running is None:
            index = self.text_index(uri)
            if index is None:
                return None
            loop = asyncio.get_running_loop()
            # Made here, on the event loop, where `forget` drops it: a closed document keeps none.
            checker = self._checkers.setdefault(uri, incremental.IncrementalChecker())
            running = asyncio.ensure_future(
                loop.run_in_executor(
                    self._check_pool,
                    functools.partial(
                        self._check, uri, version, index, self.settings.max_file_size_bytes, checker=checker
                    ),
                )
            )
            self._checking[key] = running
            running.add_done_callback(lambda _: self._checking.pop(key, None))
        # Shielded: a cancelled caller (a newer change) must not cancel a check others wait for.
        return await asyncio.shield(running)

    def _check(
        self,
        uri: str,
        version: int | None,
        index: positions.TextIndex,
        max_size: int,
        *,
        checker: incremental.IncrementalChecker,
    ) -> Checked | None:
        """Check one version (in the check thread); skipped when a newer version exists already.

        The garbage collector stays off meanwhile, and the check's objects are frozen out of its
        walks afterwards (see `collecting`): they would otherwise cost a collection on every change.
        """
        if not self.is_current(uri, version):
            return None
        with collecting.paused_then_frozen():
            return self._check_now(uri, version, index, max_size, checker=checker)

    def _check_now(
        self,
        uri: str,
        version: int | None,
        index: positions.TextIndex,
        max_size: int,
        *,
        checker: incremental.IncrementalChecker,
    ) -> Checked | None:
        text = index.text
        if len(text) > max_size:
            problem = problems.Problem(
                code=TOO_LARGE_CODE,
                severity=problems.Severity.WARNING,
                message=(
                    f"This file is too large to check ({len(text):,} characters; the limit is {max_size:,}). "
                    "A KubernetesLocalProcessConfig.yaml is usually a few lines: split it, or raise the "
                    "`maxFileSizeBytes` setting."
                ),
                span=problems.Span(problems.Position(0, 0), problems.Position(0, 0)),
            )
            return Checked(
                uri, version, index, None, diagnostics.to_diagnostics([problem], index=index, version=version)
            )
        try:
            result = checker.check(index.checker_text)
        except Exception as error:  # a checker bug must not take the editor's server down
            logger.exception("checking %s failed", uri)
            self.log_from_thread(
                f"Checking {uri} failed: {type(error).__name__}: {error}", types.MessageType.Error
            )
            problem = problems.Problem(
                code=CHECK_FAILED_CODE,
                severity=problems.Severity.ERROR,
                message=f"kubelocal could not check this file ({type(error).__name__}: {error}). "
                "Please report this with the file's content.",
                span=problems.Span(problems.Position(0, 0), problems.Position(0, 0)),
            )
            return Checked(
                uri, version, index, None, diagnostics.to_diagnostics([problem], index=index, version=version)
            )
        return Checked(
            uri,
            version,
            index,
            result,
            diagnostics.to_diagnostics(
                result.problems,
                index=index,
                version=version,
                uri=uri if self._related_information() else None,
            ),
        )

    def _related_information(self) -> bool:
        text_document = self.client_capabilities.text_document
        publish = text_document.publish_diagnostics if text_document else None
        return bool(publish and publish.related_information)

    # -- the cluster ----------------------------------------------------------------------------

    def cluster_names(self) -> cataloging.Snapshot:
        """What the cluster catalog knows, seen from the connected session when there is one (the
        session's namespace, its services, the replaced container's volumes). Never waits."""
        snapshot = self.catalog.snapshot()
        return self.focus_on_session(snapshot) if self.focus_on_session is not None else snapshot

    def _read_cluster(self) -> cataloging.Snapshot:
        if not self.settings.cluster_completion:
            return cataloging.Snapshot(error="cluster completion is off")
        return self.cluster_reader()

    def _catalog_updated(self, snapshot: cataloging.Snapshot) -> None:
        """Tell the client what the cluster catalog read (called from the catalog's thread)."""
        if snapshot.error:
            message = f"Cluster names for completion are not available: {snapshot.error}."
        else:
            message = (
                f"Read {len(snapshot.services)} services in {len(snapshot.namespaces)} namespaces and "
                f"{len(snapshot.volumes)} volumes from context {snapshot.context!r} for completion."
            )
        self.log_from_thread(message)

    def log_from_thread(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        """`log` from another thread: the transport is not thread-safe, so write from the event loop."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(functools.partial(self.log, message, level=level))

    def apply_settings(self, options: object) -> None:
        self.settings, complaints = settings.updated(self.settings, options)
        for complaint in complaints:
            self.log(complaint, level=types.MessageType.Warning)
        self.catalog.cache_seconds = self.settings.cluster_cache_seconds

    def shutdown(self) -> None:
        self.cluster_reader.stop()
        self._check_pool.shutdown(wait=False, cancel_futures=True)
        self.idle_collection.cancel()
        super().shutdown()


def build() -> KubelocalLanguageServer:
    """A server with every feature registered."""
    # Imported here: the feature modules import this one for the server's type.
    from kubelocal.lsp import commanding, completing, configuring, fixing, hovering, outlining, syncing

    server = KubelocalLanguageServer()
    for feature in (configuring, syncing, completing, hovering, fixing, outlining, commanding):
        feature.register(server)
    return server

"""kubelocal-lsp: the language server for KubernetesLocalProcessConfig.yaml (pygls, over stdio).

It serves files named `KubernetesLocalProcessConfig.yaml` in any folder, and any file matching the
`configFileGlobs` setting (see `kubelocal.lsp.settings`): diagnostics (debounced, versioned),
completion, hover, quick fixes and document symbols. Everything the server has to say goes to the
client as window/logMessage or to stderr: stdout is the protocol channel.

Modules: `server` (state and wiring) and one module per feature (`configuring`, `syncing`,
`completing`, `hovering`, `fixing`, `outlining`); pure logic in `positions`, `cursor_contexts`,
`completions`, `hovers`, `diagnostics`, `outlines`, `schemas`, `settings`; the cluster's names come
from `kubelocal.kube.cataloging`.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the language server on stdin/stdout until the client says exit."""
    parser = argparse.ArgumentParser(
        prog="kubelocal-lsp", description="Language server for KubernetesLocalProcessConfig.yaml, over stdio."
    )
    parser.add_argument(
        "--log-level", default="WARNING", help="level of the log written to stderr (default WARNING)"
    )
    args = parser.parse_args(argv)
    # stdout carries the protocol: the log goes to stderr, which editors show as the server's output.
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="kubelocal-lsp %(levelname)s %(name)s: %(message)s",
    )
    # Checks run in a thread; a shorter GIL switch interval (default 5 ms) lets the event loop answer
    # requests within a few milliseconds while a long check runs.
    sys.setswitchinterval(0.001)
    from kubelocal import eventloops
    from kubelocal.lsp import server

    # pygls runs its own asyncio.run: on uvloop when installed, for the connect it can run.
    eventloops.install()
    language_server = server.build()
    # The imports and the schema are long-lived: keep them out of every garbage collection's walk,
    # and collect less often, since each check allocates many short-lived nodes.
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    language_server.start_io()
    return 0

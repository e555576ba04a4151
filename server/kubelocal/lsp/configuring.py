"""Start-up and settings: `initializationOptions`, `workspace/didChangeConfiguration`.

The settings are described in `kubelocal.lsp.settings`. After start-up the cluster catalog starts
its first background read (when cluster completion is on and a kubeconfig exists), so names are
ready by the first completion. A settings change re-checks the open documents it now serves.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from kubelocal.kube import cataloging
from kubelocal.lsp import server as lsp_server
from kubelocal.lsp import syncing


def register(server: lsp_server.KubelocalLanguageServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: lsp_server.KubelocalLanguageServer, params: types.InitializeParams) -> None:
        ls.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: lsp_server.KubelocalLanguageServer, params: types.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        if ls.settings.cluster_completion and cataloging.kubeconfig_paths():
            ls.catalog.refresh()
        ls.log(f"kubelocal-lsp {ls.version} ready")
        for start in ls.after_initialized:
            start()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: lsp_server.KubelocalLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        ls.apply_settings(params.settings)
        for uri in list(ls.workspace.text_documents):
            if ls.document(uri) is not None:
                syncing.schedule(ls, uri)
            else:  # no longer served (a glob was removed): withdraw what was published
                ls.forget(uri)
                syncing.clear(ls, uri)

"""The only code in kubelocal that talks to a Kubernetes API server.

Modules named by verb do I/O (`loading` the kubeconfig, `requesting`, `fetching`, `creating`,
`patching`, `deleting`, `watching`, `forwarding`); plural nouns are pure (`resources`, `pods`).
Everything is asyncio over aiohttp; the official `kubernetes` package is used only to read the
kubeconfig (contexts, certificates, exec plugins), and by `cataloging` (the names the editor's
completion offers, read in a child process with a time limit, cached in a background thread).
Errors are mapped to `kube.errors`.
"""

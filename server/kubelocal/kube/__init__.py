"""The only code in kubelocal that talks to a Kubernetes API server.

Modules named by verb do I/O (`loading` the kubeconfig, `requesting`, `fetching`, `creating`,
`patching`, `deleting`, `watching`, `forwarding`); plural nouns are pure (`resources`, `pods`).
Everything is asyncio over aiohttp; the official `kubernetes` package is used only to read the
kubeconfig (contexts, certificates, exec plugins). Errors are mapped to `kube.errors`.
"""

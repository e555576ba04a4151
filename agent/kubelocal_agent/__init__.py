"""The in-cluster agent of kubelocal. Standard library only: it runs on a stock `python` image.

- `protocol`: the sans-IO wire protocol, shared with the engine (`docs/protocol.md`).
- `driving`: asyncio sessions and streams over that protocol, for both peers.
- `serving`: the agent itself (service, control and status listeners); `__main__` its command line.
- `restore`, `restores`, `kubeapi`: the restore mode run by the restore Job, its pure planning, and
  a minimal Kubernetes API client.
- `packing`: the agent as a deterministic zipapp, for the engine to upload.
- `errors`: the package's exceptions outside the protocol.
"""

__version__ = "0.1.0"

"""kubelocal: run and debug one service on your workstation as if it ran in its Kubernetes cluster."""

__version__ = "0.1.0"

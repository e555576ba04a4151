"""The in-cluster agent of kubelocal. Standard library only: it runs on a stock `python` image."""

__version__ = "0.1.0"

"""The sandbox: a local Kubernetes API server with a process-based kubelet, for the demo and the tests.

The engine never imports it: kubelocal only ever talks to a Kubernetes API.
"""

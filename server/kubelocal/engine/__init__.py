"""The engine: plans a session in pure functions over plain Kubernetes object dicts.

One module per concern, each a plural noun for data and its side-effect-free transforms:
`targets` (service -> workload and container), `patches` (the workload patch and its exact
inverse), `ledgers` (every change paired with its undo), `manifests` (the objects a session
creates in the cluster), `plans` (a connect as ordered change/undo pairs), `endpoints`
(workstation addresses for cluster services), `environment` (the env of the workstation process
and its renderers), `hosts` (the hosts-file block), `launches` (debug configurations with the
environment injected), `sessions` (the workstation's session records, crash recovery decisions),
`names` (every cluster-side name), `errors` (the exception tree).

The only I/O here is small and marked: writing the hosts file and the private env file. The shell
that executes the plans lives elsewhere and talks to the cluster only through `kubelocal.kube`.
"""

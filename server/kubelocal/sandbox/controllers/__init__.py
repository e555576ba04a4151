"""The sandbox's controllers: what kube-controller-manager does, for the kinds kubelocal touches.

Each controller module decides in pure functions: given the current objects it returns the
`actions.Action`s that move the cluster towards the desired state (create, delete, patch, status).
`running.Controllers` is the thin shell that feeds those functions from `Store.watch` and applies
their actions to the store. Kubernetes' own controllers are level-triggered and so are these: every
decision looks at the whole current state, never at the event that woke it up.
"""

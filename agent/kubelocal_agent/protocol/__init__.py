"""The wire protocol between the kubelocal engine and its agent: sans-IO, standard library only.

One module per concept: `frames` (bytes), `events` (what happened), `streams` (one stream's state
machine), `windows` (flow control), `errors` (wire codes and exceptions), `versions`
(negotiation), `targets` (what a stream connects to), `heartbeats` (liveness), and `connection`,
which ties them together. Drivers live outside this package (`kubelocal_agent.driving`).
"""

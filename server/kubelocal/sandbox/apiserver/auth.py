"""Bearer-token authentication for the sandbox's API server.

The sandbox writes one token into the kubeconfig it hands out; in-cluster clients (pods using their
ServiceAccount token) get tokens that the kubelet or controllers register here. RBAC objects are
stored but not enforced: every authenticated user may do everything.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time


def new_token() -> str:
    """A random token for a kubeconfig or a ServiceAccount."""
    return secrets.token_urlsafe(32)


class TokenRegistry:
    """Known bearer tokens and whom they stand for (e.g. `system:serviceaccount:ns:name`)."""

    def __init__(self) -> None:
        self._users: dict[str, str] = {}

    def add(self, token: str, *, user: str) -> None:
        self._users[_digest(token)] = user

    def remove(self, token: str) -> None:
        self._users.pop(_digest(token), None)

    def user_for(self, token: str) -> str | None:
        """The user a token stands for; None when the token is unknown.

        Tokens are kept and looked up by their SHA-256 digest, so lookup time says nothing about how
        much of a guessed token matched.
        """
        return self._users.get(_digest(token))

    def issue_service_account_token(
        self,
        *,
        namespace: str,
        service_account: str,
        audience: str | None = None,
        expiration_seconds: int = 3607,
    ) -> str:
        """A JWT-shaped token for a ServiceAccount, registered so the API server accepts it.

        Fits the kubelet's `token_factory` for projected serviceAccountToken volumes. The signature
        part is random (nothing verifies it but this registry); the claims are what clients that
        decode a bound token read (`sub`, `kubernetes.io`, `exp`).
        """
        now = int(time.time())
        user = f"system:serviceaccount:{namespace}:{service_account}"
        claims = {
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": user,
            "aud": [audience or "https://kubernetes.default.svc.cluster.local"],
            "iat": now,
            "nbf": now,
            "exp": now + expiration_seconds,
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": service_account}},
        }
        token = ".".join(
            (_segment({"alg": "RS256", "typ": "JWT"}), _segment(claims), secrets.token_urlsafe(32))
        )
        self.add(token, user=user)
        return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _segment(value: dict) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

"""A self-signed serving certificate for the sandbox's API server, made with the openssl command.

TLS matters even on loopback: kubectl sends bearer tokens only over https, and in-cluster clients
reach `https://kubernetes.default.svc` with the CA their ServiceAccount volume holds. The
certificate names every address a client may use: 127.0.0.1, localhost, the `kubernetes` Service's
ClusterIP (10.96.0.1) and its DNS names.
"""

from __future__ import annotations

import dataclasses
import pathlib
import shutil
import ssl
import subprocess
import tempfile

from kubelocal.sandbox import errors

DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
IP_ADDRESSES = ("127.0.0.1", "10.96.0.1")


@dataclasses.dataclass(frozen=True)
class Certificate:
    certificate_file: pathlib.Path
    key_file: pathlib.Path

    @property
    def pem(self) -> bytes:
        """The certificate (also its own CA), for kubeconfig's certificate-authority-data or ca.crt."""
        return self.certificate_file.read_bytes()

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate_file, self.key_file)
        return context


def create(
    directory: pathlib.Path,
    *,
    ip_addresses: tuple[str, ...] = IP_ADDRESSES,
    dns_names: tuple[str, ...] = DNS_NAMES,
    days: int = 365,
) -> Certificate:
    """Make a self-signed EC certificate and key in directory (key readable by its owner only).

    errors.ApiError when the openssl command is missing or fails, saying what to install.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise errors.ApiError(
            "the openssl command is needed to make the sandbox's TLS certificate; install it "
            "(Debian/Ubuntu: apt-get install openssl) or serve plain http without authentication"
        )
    directory.mkdir(parents=True, exist_ok=True)
    certificate_file = directory / "apiserver.crt"
    key_file = directory / "apiserver.key"
    names = [f"DNS:{name}" for name in dns_names] + [f"IP:{address}" for address in ip_addresses]
    with tempfile.TemporaryDirectory() as scratch:
        temporary_key = pathlib.Path(scratch) / "key.pem"
        result = subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-nodes",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-keyout",
                str(temporary_key),
                "-out",
                str(certificate_file),
                "-days",
                str(days),
                "-subj",
                "/CN=kubelocal-sandbox-apiserver",
                "-addext",
                "subjectAltName=" + ",".join(names),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
                "-addext",
                "extendedKeyUsage=serverAuth",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise errors.ApiError(
                f"openssl could not make the sandbox's certificate: {result.stderr.strip()}"
            )
        key_file.write_bytes(temporary_key.read_bytes())
    key_file.chmod(0o600)
    return Certificate(certificate_file, key_file)

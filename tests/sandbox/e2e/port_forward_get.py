"""GET one URL path from a pod's port through the API server's port-forward, with the official client.

    python port_forward_get.py KUBECONFIG NAMESPACE POD PORT PATH   -> the raw HTTP response on stdout

Run as its own process by the e2e tests (see test_cluster_e2e.http_get_through_port_forward).
"""

import sys

from kubernetes import client, config
from kubernetes.stream import portforward


def main() -> None:
    kubeconfig, namespace, pod, port, path = sys.argv[1:6]
    api = config.new_client_from_config(config_file=kubeconfig)
    core = client.CoreV1Api(api)
    forward = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports=port)
    sock = forward.socket(int(port))
    sock.settimeout(20)
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {pod}\r\nConnection: close\r\n\r\n".encode())
    response = b""
    while True:
        head, separator, body = response.partition(b"\r\n\r\n")
        if separator:
            lengths = [
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if lengths and len(body) >= lengths[0]:
                break
        chunk = sock.recv(65536)
        if not chunk:
            break
        response += chunk
    sock.close()
    forward.close()
    sys.stdout.write(response.decode())


if __name__ == "__main__":
    main()

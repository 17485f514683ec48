"""The loopback interface, the only one the emulator and Airflow's components listen on."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def loopback_url(port: int) -> str:
    """The base URL of a server listening on ``port`` of the loopback interface."""
    return f"http://{LOOPBACK}:{port}"


def free_port() -> int:
    """A TCP port of the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port

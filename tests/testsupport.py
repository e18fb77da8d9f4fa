"""Small helpers shared by test modules (fixtures live in conftest.py)."""

import socket

from lakehouse_resources.paths import repo_root

REPO = repo_root()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

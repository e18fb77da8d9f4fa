"""A port a stopped server leaves in TIME_WAIT is free again at once (a restart right after Ctrl-C
keeps its ports); a port something listens on is not."""

from __future__ import annotations

import socket

from lakehouse_standins.shared import port_free


def test_a_port_closed_by_its_server_is_free_and_a_listening_one_is_not() -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    assert not port_free(port)
    accepted.close()  # the server side closes first: its end of the connection waits in TIME_WAIT
    client.close()
    server.close()
    assert port_free(port)

"""The store's listening socket, made without loading the server (the demo binds it early)."""

from __future__ import annotations

import socket


def listen(host: str, port: int) -> socket.socket:
    """A bound listening socket with TCP_NODELAY, which accepted connections inherit.

    Without it, small answers (status, errors, search) wait for Nagle and delayed ACK:
    uvicorn writes the headers and the body separately.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock

"""A TCP relay in front of the throwaway PostgreSQL that can cut a connection at COMMIT.

It passes bytes both ways until it is armed. An armed relay watches what the client
sends for the simple-query message ``COMMIT`` (how psycopg ends a transaction block) and
then cuts that connection either before passing the COMMIT on (``"before"``: the server
never commits) or after passing it on but before the server's answer reaches the client
(``"after"``: the server commits, the client cannot know). ``refuse`` makes it turn away
new connections, as a server that is gone would.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from urllib.parse import urlsplit, urlunsplit

COMMIT_MESSAGE = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # 'Q', length 11, "COMMIT\0"


class _Link:
    """One client's connection through the relay."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client, self.server = client, server
        self.holding = False
        self.answered = threading.Event()

    def drop(self) -> None:
        for sock in (self.client, self.server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()


class CuttingProxy:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        netloc = parts.netloc.rsplit("@", 1)
        self.url = urlunsplit(parts._replace(netloc=f"{netloc[0]}@127.0.0.1:{port}"))
        self.armed: str | None = None  # None, "before" or "after"
        self.refuse = False
        self.cut = threading.Event()  # set once a connection was cut at COMMIT
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refuse:
                client.close()
                continue
            server = socket.create_connection(self._target)
            link = _Link(client, server)
            threading.Thread(target=self._upstream, args=(link,), daemon=True).start()
            threading.Thread(target=self._downstream, args=(link,), daemon=True).start()

    def _upstream(self, link: _Link) -> None:
        with suppress(OSError):
            while data := link.client.recv(65536):
                mode = self.armed
                if mode is not None and COMMIT_MESSAGE in data:
                    self.armed = None
                    if mode == "after":
                        link.holding = True  # the server's answer is kept from the client
                        link.server.sendall(data)
                        link.answered.wait(10)
                    link.drop()
                    self.cut.set()
                    return
                link.server.sendall(data)
        link.drop()

    @staticmethod
    def _downstream(link: _Link) -> None:
        with suppress(OSError):
            while data := link.server.recv(65536):
                if link.holding:  # the answer to the COMMIT: the server has committed
                    link.answered.set()
                    return
                link.client.sendall(data)
        link.drop()

    def close(self) -> None:
        self._closed = True
        with suppress(OSError):
            self._listener.close()

"""crawler/localsite.py, the HTTP server every crawl test talks to."""
from __future__ import annotations

import http.client
import socket

from crawler.localsite import LocalSite, Page


def nodelay_of_this_connection(handler) -> Page:
    """The TCP_NODELAY option of the connection the server accepted for this request, and the client's port."""
    nodelay = handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    return Page(f"{int(bool(nodelay))} {handler.client_address[1]}", content_type="text/plain")


def test_keep_alive_connections_send_without_waiting_for_acks():
    """Headers and body leave in two writes: with Nagle's algorithm on, every keep-alive response after the first
    waits for the client's delayed ACK (~40 ms each), which made whole crawls in the tests crawl."""
    with LocalSite({"/nodelay": nodelay_of_this_connection}) as site:
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        try:
            answers = []
            for _ in range(3):  # one keep-alive connection, several requests
                conn.request("GET", "/nodelay")
                response = conn.getresponse()
                answers.append((response.status, response.read().decode()))
        finally:
            conn.close()
    assert [status for status, _ in answers] == [200] * 3
    assert len({body.split()[1] for _, body in answers}) == 1, answers  # the same connection throughout
    assert [body.split()[0] for _, body in answers] == ["1"] * 3, answers
    assert site.requests == ["/nodelay"] * 3

"""The lab's backend test app, run as a subprocess on 127.0.0.1."""

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[3] / "lab" / "backend" / "balancer_backend.py"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Backend:
    def __init__(self, tmp_path, *extra):
        self.port = free_port()
        self.control = tmp_path / "control"
        self.proc = subprocess.Popen(
            [sys.executable, str(APP), "--name", "app7", "--port", str(self.port), "--bind", "127.0.0.1",
             "--control-file", str(self.control), "--quiet", *extra],
            stderr=subprocess.PIPE, text=True,
        )
        assert wait_until(lambda: accepts(self.port)), "backend did not start"

    def request(self, path="/", method="GET", body=None, headers=None, timeout=5):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read().decode()
        finally:
            conn.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


@pytest.fixture
def backend(tmp_path):
    app = Backend(tmp_path)
    yield app
    app.stop()


def test_any_path_answers_the_name(backend):
    status, headers, body = backend.request("/some/path?x=1")
    assert (status, body) == (200, "app7\n")
    assert headers["X-Backend"] == "app7"
    assert headers["Content-Length"] == "5"


def test_health(backend):
    status, headers, body = backend.request("/health")
    assert (status, body, headers["X-Backend"]) == (200, "ok\n", "app7")


def test_headers_are_echoed(backend):
    status, dummy, body = backend.request("/headers", headers={"X-Real-IP": "192.0.2.7", "Connection": "keep-alive"})
    assert status == 200
    received = json.loads(body)
    assert received["X-Real-IP"] == "192.0.2.7"
    assert received["Connection"] == "keep-alive"


def test_websocket_upgrade(backend):
    with socket.create_connection(("127.0.0.1", backend.port), timeout=5) as sock:
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1024)
        lines = head.decode().split("\r\n")
        assert lines[0] == "HTTP/1.1 101 Switching Protocols"
        assert "Upgrade: websocket" in lines
        assert "Connection: Upgrade" in lines
        assert "X-Backend: app7" in lines
        assert "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in lines
        sock.sendall(b"ping")  # the upgraded connection echoes
        assert sock.recv(4) == b"ping"


def test_keepalive_reuses_one_connection(backend):
    conn = http.client.HTTPConnection("127.0.0.1", backend.port, timeout=5)
    try:
        ports = set()
        for dummy in range(5):
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert resp.read() == b"app7\n"
            assert resp.getheader("Connection") != "close"
            ports.add(conn.sock.getsockname()[1])
        assert len(ports) == 1
    finally:
        conn.close()


@pytest.mark.parametrize("mode", ["503", "502"])
def test_error_modes_and_healing_through_the_control_file(backend, mode):
    backend.control.write_text(mode + "\n")
    status, headers, body = backend.request("/")
    assert (status, body, headers["X-Backend"]) == (int(mode), "app7 %s\n" % mode, "app7")
    assert backend.request("/health")[0] == int(mode)
    backend.control.write_text("ok\n")
    assert backend.request("/")[:3:2] == (200, "app7\n")


def test_control_endpoint_sets_the_mode(backend):
    status, dummy, body = backend.request("/_control", method="POST", body="503")
    assert status == 200
    assert json.loads(body) == {"name": "app7", "mode": "503", "delay": 0.0}
    assert backend.request("/")[0] == 503
    assert json.loads(backend.control.read_text())["mode"] == "503"
    assert backend.request("/_control", method="POST", body="ok")[0] == 200
    assert backend.request("/")[0] == 200


def test_control_endpoint_refuses_bad_modes_and_proxied_calls(backend):
    assert backend.request("/_control", method="POST", body="sideways")[0] == 400
    assert backend.request("/_control", method="POST", body="503", headers={"X-Real-IP": "192.0.2.1"})[0] == 403
    assert backend.request("/")[0] == 200


def test_refuse_closes_the_port_and_heals(backend):
    backend.control.write_text("refuse\n")
    assert wait_until(lambda: not accepts(backend.port)), "port still accepts in mode refuse"
    backend.control.write_text("ok\n")
    assert wait_until(lambda: accepts(backend.port)), "port did not reopen"
    assert backend.request("/")[:3:2] == (200, "app7\n")


def test_refuse_through_the_control_endpoint_heals_through_the_file(backend):
    assert backend.request("/_control", method="POST", body="refuse")[0] == 200
    assert wait_until(lambda: not accepts(backend.port))
    backend.control.write_text("ok")
    assert wait_until(lambda: accepts(backend.port))


def test_hang_holds_the_request_until_healed(backend):
    backend.control.write_text("hang")
    with pytest.raises(socket.timeout):
        backend.request("/", timeout=0.5)
    backend.control.write_text("ok")
    assert backend.request("/", timeout=5)[0] == 200


def test_delay_from_the_control_file(backend):
    backend.control.write_text('{"mode": "ok", "delay": 0.4}')
    started = time.monotonic()
    assert backend.request("/")[0] == 200
    assert time.monotonic() - started >= 0.4
    backend.control.write_text("ok 0")
    started = time.monotonic()
    backend.request("/")
    assert time.monotonic() - started < 0.4


def test_delay_from_the_command_line(tmp_path):
    app = Backend(tmp_path, "--delay", "0.3")
    try:
        started = time.monotonic()
        assert app.request("/")[0] == 200
        assert time.monotonic() - started >= 0.3
    finally:
        app.stop()


def test_taken_port_fails_loudly(backend, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(APP), "--name", "dup", "--port", str(backend.port), "--bind", "127.0.0.1"],
        capture_output=True, text=True, timeout=10, check=False,
    )
    assert proc.returncode != 0
    assert "Address already in use" in proc.stderr

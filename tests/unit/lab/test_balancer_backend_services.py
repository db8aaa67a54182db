"""The backend test app's opt-in services (TCP, UDP, HTTPS), run as a subprocess on 127.0.0.1.

The certificates come from lab/backend/lab-tls.sh, as in the lab images; the
tests that need them are skipped where the openssl program is missing.
"""

import contextlib
import http.client
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parents[3] / "lab"
APP = LAB / "backend" / "balancer_backend.py"
LAB_TLS = LAB / "backend" / "lab-tls.sh"


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as sock:
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


def udp_ask(port, payload, timeout=2.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(payload, ("127.0.0.1", port))
        return sock.recv(65535)


def udp_answers(port):
    try:
        return udp_ask(port, b"x", timeout=0.3) == b"app7 x"
    except OSError:
        return False


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl program is missing (lab-tls.sh needs it)")
    directory = tmp_path_factory.mktemp("tls")
    subprocess.run(["sh", str(LAB_TLS), str(directory)], check=True, capture_output=True, timeout=60)
    return directory


class Backend:
    """The app with HTTP plus the services asked for; ports are free ones."""

    def __init__(self, tmp_path, tcp=False, udp=False, tls_dir=None, client_ca=True, verify_client=None):
        self.port = free_port()
        self.control = tmp_path / "control"
        args = [sys.executable, str(APP), "--name", "app7", "--port", str(self.port), "--bind", "127.0.0.1",
                "--control-file", str(self.control), "--quiet"]
        self.tcp_port = self.udp_port = self.https_port = None
        if tcp:
            self.tcp_port = free_port()
            args += ["--tcp-port", str(self.tcp_port)]
        if udp:
            self.udp_port = free_port(socket.SOCK_DGRAM)
            args += ["--udp-port", str(self.udp_port)]
        if tls_dir is not None:
            self.https_port = free_port()
            args += ["--https-port", str(self.https_port),
                     "--tls-cert", str(tls_dir / "app1.crt"), "--tls-key", str(tls_dir / "app1.key")]
            if client_ca:
                args += ["--tls-client-ca", str(tls_dir / "ca.crt")]
            if verify_client:
                args += ["--tls-verify-client", verify_client]
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        ports = [port for port in (self.port, self.tcp_port, self.https_port) if port]
        assert wait_until(lambda: all(accepts(port) for port in ports)), "backend did not start"
        if udp:
            assert wait_until(lambda: udp_answers(self.udp_port)), "UDP service did not start"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


@pytest.fixture
def services(tmp_path):
    app = Backend(tmp_path, tcp=True, udp=True)
    yield app
    app.stop()


def client_context(tls_dir, cert=None, ca="ca.crt"):
    context = ssl.create_default_context(cafile=str(tls_dir / ca))
    if cert:
        context.load_cert_chain(str(tls_dir / (cert + ".crt")), str(tls_dir / (cert + ".key")))
    return context


def https_get(app, tls_dir, path="/", server_name="app1.lab.test", cert=None, ca="ca.crt"):
    """GET over TLS to 127.0.0.1, verifying the server as server_name; (status, headers, body)."""
    context = client_context(tls_dir, cert, ca)
    with socket.create_connection(("127.0.0.1", app.https_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as sock:
            sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, server_name)).encode())
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, dummy, body = data.decode().partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


# ---------------------------------------------------------------- TCP


def test_tcp_sends_the_name_then_echoes_lines(services):
    with socket.create_connection(("127.0.0.1", services.tcp_port), timeout=5) as sock:
        stream = sock.makefile("rb")
        assert stream.readline() == b"app7\n"
        sock.sendall(b"hello\nworld\n")
        assert stream.readline() == b"hello\n"
        assert stream.readline() == b"world\n"
        sock.sendall(b"last")
        sock.shutdown(socket.SHUT_WR)
        assert stream.read() == b"last"  # a last line without newline comes back too, then EOF


def test_tcp_serves_connections_at_once(services):
    socks = [socket.create_connection(("127.0.0.1", services.tcp_port), timeout=5) for dummy in range(3)]
    try:
        assert [sock.makefile("rb").readline() for sock in socks] == [b"app7\n"] * 3
    finally:
        for sock in socks:
            sock.close()


def test_http_is_unchanged_next_to_the_services(services):
    conn = http.client.HTTPConnection("127.0.0.1", services.port, timeout=5)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert (resp.status, resp.read(), resp.getheader("X-Backend")) == (200, b"app7\n", "app7")
        assert resp.getheader("X-SNI") is None
    finally:
        conn.close()


# ---------------------------------------------------------------- UDP


@pytest.mark.parametrize("payload", [b"ping", b"two words\n", b"", bytes(range(256))])
def test_udp_answers_name_space_payload(services, payload):
    assert udp_ask(services.udp_port, payload) == b"app7 " + payload


def test_udp_answers_each_datagram(services):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        for payload in (b"a", b"b", b"c"):
            sock.sendto(payload, ("127.0.0.1", services.udp_port))
            assert sock.recv(100) == b"app7 " + payload


# ---------------------------------------------------------------- refuse


def test_refuse_closes_every_listener_and_heals(services):
    ports = (services.port, services.tcp_port)
    services.control.write_text("refuse\n")
    assert wait_until(lambda: not any(accepts(port) for port in ports)), "a TCP port still accepts"
    assert not udp_answers(services.udp_port)
    services.control.write_text("ok\n")
    assert wait_until(lambda: all(accepts(port) for port in ports)), "a TCP port did not reopen"
    assert wait_until(lambda: udp_answers(services.udp_port)), "UDP did not answer again"


def test_refuse_closes_an_open_tcp_connection_at_its_next_line(services):
    with socket.create_connection(("127.0.0.1", services.tcp_port), timeout=5) as sock:
        stream = sock.makefile("rb")
        assert stream.readline() == b"app7\n"
        services.control.write_text("refuse\n")
        sock.sendall(b"hello\n")
        assert stream.readline() == b""
    services.control.write_text("ok\n")


def test_other_modes_leave_tcp_and_udp_alone(services):
    services.control.write_text("503 0.5\n")
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", services.tcp_port), timeout=5) as sock:
        assert sock.makefile("rb").readline() == b"app7\n"
    assert udp_ask(services.udp_port, b"x") == b"app7 x"
    assert time.monotonic() - started < 0.5


# ---------------------------------------------------------------- HTTPS


@pytest.fixture
def https(tmp_path, tls):
    app = Backend(tmp_path, tls_dir=tls)
    yield app
    app.stop()


def test_https_answers_like_http_and_shows_the_sni(https, tls):
    status, headers, body = https_get(https, tls)
    assert (status, body) == (200, "app7\n")
    assert headers["X-Backend"] == "app7"
    assert headers["X-SNI"] == "app1.lab.test"
    assert headers["X-Client-CN"] == ""
    assert headers["X-TLS-Protocol"].startswith("TLSv1.")


@pytest.mark.parametrize("name", ["backend.lab.test", "localhost"])
def test_https_certificate_names(https, tls, name):
    assert https_get(https, tls, server_name=name)[1]["X-SNI"] == name


def test_https_without_sni(https, tls):
    context = client_context(tls)
    context.check_hostname = False
    with socket.create_connection(("127.0.0.1", https.https_port), timeout=5) as raw:
        with context.wrap_socket(raw) as sock:  # no server_hostname: no SNI
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = sock.makefile("rb").read().decode()
    assert "\r\nX-SNI: \r\n" in answer
    assert answer.endswith("\r\n\r\napp7\n")


def test_https_headers_path(https, tls):
    status, headers, body = https_get(https, tls, path="/headers")
    assert status == 200
    assert '"Host": "app1.lab.test"' in body
    assert headers["Content-Type"] == "application/json"


def test_https_client_certificate_cn(https, tls):
    status, headers, dummy = https_get(https, tls, cert="client")
    assert (status, headers["X-Client-CN"]) == (200, "lab-client")


def test_https_refuses_a_client_certificate_from_another_ca(https, tls):
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(https, tls, cert="other")


def test_https_server_fails_verification_with_another_ca(https, tls):
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(https, tls, ca="other-ca.crt")


def test_https_wrong_name_fails_verification(https, tls):
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(https, tls, server_name="app2.lab.test")


def test_https_keeps_serving_after_a_failed_handshake(https, tls):
    with socket.create_connection(("127.0.0.1", https.https_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP on the TLS port
        with contextlib.suppress(ConnectionError):
            assert b"app7" not in sock.recv(100)  # an alert, a reset or EOF: never an answer
    assert https_get(https, tls)[0] == 200


@pytest.mark.parametrize("mode", ["503", "502"])
def test_https_follows_the_control_file(https, tls, mode):
    https.control.write_text(mode)
    status, headers, body = https_get(https, tls)
    assert (status, body, headers["X-SNI"]) == (int(mode), "app7 %s\n" % mode, "app1.lab.test")
    https.control.write_text("ok")
    assert https_get(https, tls)[0] == 200


def test_https_refuse_closes_the_port_and_heals(https, tls):
    https.control.write_text("refuse")
    assert wait_until(lambda: not accepts(https.https_port))
    https.control.write_text("ok")
    assert wait_until(lambda: accepts(https.https_port))
    assert https_get(https, tls)[0] == 200


def test_https_client_certificate_required(tmp_path, tls):
    app = Backend(tmp_path, tls_dir=tls, verify_client="required")
    try:
        assert https_get(app, tls, cert="client")[1]["X-Client-CN"] == "lab-client"
        with pytest.raises((ssl.SSLError, ConnectionError)):
            https_get(app, tls)
    finally:
        app.stop()


def test_https_without_client_ca_ignores_client_certificates(tmp_path, tls):
    app = Backend(tmp_path, tls_dir=tls, client_ca=False)
    try:
        assert https_get(app, tls, cert="other")[1]["X-Client-CN"] == ""
    finally:
        app.stop()


# ---------------------------------------------------------------- options


@pytest.mark.parametrize("args, message", [
    (["--https-port", "1"], "--https-port needs --tls-cert"),
    (["--tls-cert", "x.crt"], "--tls-cert, --tls-key and --tls-client-ca need --https-port"),
    (["--tls-client-ca", "ca.crt"], "--tls-cert, --tls-key and --tls-client-ca need --https-port"),
    (["--https-port", "1", "--tls-cert", "x", "--tls-verify-client", "sometimes"], "invalid choice: 'sometimes'"),
])
def test_option_errors(args, message):
    proc = subprocess.run([sys.executable, str(APP), "--name", "x", "--port", "1", *args],
                          capture_output=True, text=True, timeout=10, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_taken_tcp_port_fails_loudly(services):
    proc = subprocess.run(
        [sys.executable, str(APP), "--name", "dup", "--port", str(free_port()), "--bind", "127.0.0.1",
         "--tcp-port", str(services.tcp_port)],
        capture_output=True, text=True, timeout=10, check=False,
    )
    assert proc.returncode != 0
    assert "Address already in use" in proc.stderr


def test_taken_udp_port_fails_loudly(services):
    proc = subprocess.run(
        [sys.executable, str(APP), "--name", "dup", "--port", str(free_port()), "--bind", "127.0.0.1",
         "--udp-port", str(services.udp_port)],
        capture_output=True, text=True, timeout=10, check=False,
    )
    assert proc.returncode != 0
    assert "Address already in use" in proc.stderr


def test_tells_systemd_it_is_ready_once_every_port_listens(tmp_path):
    notify = tmp_path / "notify"
    port, tcp_port, udp_port = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(notify))
        listener.settimeout(10)
        proc = subprocess.Popen(
            [sys.executable, str(APP), "--name", "app7", "--port", str(port), "--bind", "127.0.0.1", "--quiet",
             "--tcp-port", str(tcp_port), "--udp-port", str(udp_port)],
            env={"NOTIFY_SOCKET": str(notify), "PATH": "/usr/bin:/bin"}, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert listener.recv(100) == b"READY=1"
            assert accepts(port) and accepts(tcp_port)  # at once, no waiting
            assert udp_ask(udp_port, b"x") == b"app7 x"
        finally:
            proc.terminate()
            proc.wait(timeout=5)

"""Backend test application of the balancer.nginx lab (standard library only).

    python3 balancer_backend.py --name NAME --port PORT [--bind ADDR]
                                [--delay SECONDS] [--control-file PATH]
                                [--tcp-port PORT] [--udp-port PORT]
                                [--https-port PORT --tls-cert FILE [--tls-key FILE]
                                 [--tls-client-ca FILE [--tls-verify-client required]]]

HTTP/1.1 with persistent connections; every response carries ``X-Backend: NAME``
and a Content-Length.

    GET /          (any path)  200, body "NAME\\n"
    GET /health                200, body "ok\\n"
    GET /headers               200, the request headers received, as a JSON object
    Upgrade: websocket         101 Switching Protocols, then echoes bytes back
    GET /_control              200, the current state as JSON
    POST /_control             body = new state (see below); only from 127.0.0.1/::1

State: a mode and a delay (seconds added before each answer).  Modes:

    ok       answer normally
    503      answer 503, body "NAME 503\\n"
    502      answer 502, body "NAME 502\\n"
    hang     hold each request until the mode changes (at most --hang-limit s)
    refuse   close the listening socket (connections are refused) and drop
             requests on connections already open; leaving the mode reopens it

A state is written as one word (``refuse``), as ``MODE DELAY`` (``ok 0.5``), or
as JSON (``{"mode": "ok", "delay": 0.5}``).  With --control-file the file holds
the state: it is read on every request and polled every 0.1 s (that is how a
refused backend heals), and POST /_control rewrites it.  A missing file means
``ok`` with the --delay given on the command line.  Without --control-file,
POST /_control changes the state in memory (send SIGUSR1 to heal a refusing
backend that has no control file).  Under systemd (Type=notify) it reports
ready once its sockets listen.

Opt-in services, on the same --bind address, sharing the name and the state:

    --https-port   the HTTP service above over TLS (certificate --tls-cert, key
                   --tls-key).  Every response also carries X-SNI (the server
                   name the client sent, empty without one), X-Client-CN (the
                   common name of the verified client certificate, empty
                   without one) and X-TLS-Protocol (e.g. TLSv1.3).  With
                   --tls-client-ca a client certificate is verified against
                   that CA when the client sends one (--tls-verify-client
                   required: the handshake fails without one).
    --tcp-port     on each connection, sends "NAME\\n", then echoes every line.
    --udp-port     answers each datagram with "NAME " followed by its payload.

The modes apply to HTTPS as to HTTP.  The TCP and UDP services ignore them,
except ``refuse``: their sockets close with the HTTP one, and a TCP connection
already open is closed at its next line.
"""

import argparse
import base64
import hashlib
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "503", "502", "hang", "refuse")
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HANDSHAKE_TIMEOUT = 10  # seconds a TLS client gets to finish its handshake
IDLE_TIMEOUT = 120  # seconds an idle connection stays open


def parse_state(text, default_delay):
    """Return (mode, delay) from a state text; raise ValueError if invalid."""
    text = text.strip()
    if text.startswith("{"):
        data = json.loads(text)
        mode = str(data.get("mode", "ok"))
        delay = float(data.get("delay", default_delay))
    else:
        words = text.split()
        mode = words[0] if words else "ok"
        delay = float(words[1]) if len(words) > 1 else default_delay
        if len(words) > 2:
            raise ValueError("expected MODE [DELAY], got %r" % text)
    if mode not in MODES:
        raise ValueError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if delay < 0:
        raise ValueError("delay must be >= 0, got %r" % delay)
    return mode, delay


class State:
    """The backend's mode and delay, from the control file or from memory."""

    def __init__(self, default_delay, control_file):
        self.default_delay = default_delay
        self.control_file = control_file
        self.lock = threading.Lock()
        self.mode = "ok"
        self.delay = default_delay

    def current(self):
        if self.control_file:
            try:
                with open(self.control_file, encoding="utf-8") as handle:
                    text = handle.read()
            except FileNotFoundError:
                text = ""
            except OSError as exc:
                log("cannot read %s: %s" % (self.control_file, exc))
                text = None
            if text is not None:
                try:
                    mode, delay = parse_state(text, self.default_delay)
                except ValueError as exc:
                    log("ignoring invalid control file %s: %s" % (self.control_file, exc))
                else:
                    with self.lock:
                        self.mode, self.delay = mode, delay
        with self.lock:
            return self.mode, self.delay

    def set(self, text):
        mode, delay = parse_state(text, self.default_delay)
        if self.control_file:
            tmp = "%s.tmp%d" % (self.control_file, os.getpid())
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(json.dumps({"mode": mode, "delay": delay}) + "\n")
            os.replace(tmp, self.control_file)
        with self.lock:
            self.mode, self.delay = mode, delay
        return mode, delay


def log(message):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "balancer-backend"
    timeout = IDLE_TIMEOUT  # idle keep-alive connections are closed after this

    # Set by make_handler().
    name = None
    state = None
    hang_limit = None

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            log("%s %s - %s" % (self.name, self.client_address[0], fmt % args))

    def send_identity(self):
        """X-Backend, and on a TLS connection what the handshake showed."""
        self.send_header("X-Backend", self.name)
        if isinstance(self.connection, ssl.SSLSocket):
            self.send_header("X-SNI", getattr(self.connection, "sni_name", None) or "")
            self.send_header("X-Client-CN", client_cn(self.connection))
            self.send_header("X-TLS-Protocol", self.connection.version() or "")

    def send_text(self, status, text, content_type="text/plain; charset=utf-8", headers=()):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_identity()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def handle_any(self):
        body = self.read_body()
        path = self.path.split("?", 1)[0]
        if path == "/_control":
            return self.control(body)

        mode, delay = self.state.current()
        if mode == "refuse":
            # Drop the request without an answer: the proxy sees a closed
            # connection, as it would from a backend that went away.
            self.close_connection = True
            return
        if delay:
            time.sleep(delay)
        if mode == "hang":
            deadline = time.monotonic() + self.hang_limit
            while time.monotonic() < deadline and self.state.current()[0] == "hang":
                time.sleep(0.1)
            mode = self.state.current()[0]
            if mode == "refuse":
                self.close_connection = True
                return
        if mode in ("502", "503"):
            return self.send_text(int(mode), "%s %s\n" % (self.name, mode))

        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.upgrade()
        if path == "/health":
            return self.send_text(200, "ok\n")
        if path == "/headers":
            received = {}
            for key, value in self.headers.items():
                received[key] = received[key] + ", " + value if key in received else value
            return self.send_text(200, json.dumps(received, indent=2, sort_keys=True) + "\n",
                                  content_type="application/json")
        return self.send_text(200, self.name + "\n")

    def control(self, body):
        if self.command == "GET":
            mode, delay = self.state.current()
            return self.send_text(200, json.dumps({"name": self.name, "mode": mode, "delay": delay}) + "\n",
                                  content_type="application/json")
        if self.command != "POST":
            return self.send_text(405, "use GET or POST\n", headers=[("Allow", "GET, POST")])
        forwarded = self.headers.get("X-Forwarded-For") or self.headers.get("X-Real-IP")
        if self.client_address[0] not in ("127.0.0.1", "::1") or forwarded:
            return self.send_text(403, "/_control is only for local clients\n")
        try:
            mode, delay = self.state.set(body.decode("utf-8", "replace"))
        except (ValueError, OSError) as exc:
            return self.send_text(400, "%s\n" % exc)
        log("%s: state set to mode=%s delay=%s" % (self.name, mode, delay))
        return self.send_text(200, json.dumps({"name": self.name, "mode": mode, "delay": delay}) + "\n",
                              content_type="application/json")

    def upgrade(self):
        self.send_response(101, "Switching Protocols")
        self.send_identity()
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        key = self.headers.get("Sec-WebSocket-Key")
        if key:
            digest = hashlib.sha1((key.strip() + WEBSOCKET_GUID).encode("ascii")).digest()
            self.send_header("Sec-WebSocket-Accept", base64.b64encode(digest).decode("ascii"))
        self.end_headers()
        self.wfile.flush()
        # The connection now belongs to the new protocol: echo raw bytes back
        # until the peer closes or stays silent for 5 seconds.
        self.close_connection = True
        self.connection.settimeout(5)
        try:
            while True:
                data = self.connection.recv(4096)
                if not data:
                    break
                self.connection.sendall(data)
        except OSError:
            pass

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = handle_any


def client_cn(connection):
    """The common name of the client certificate the handshake verified, or ""."""
    cert = connection.getpeercert()
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


def remember_sni(connection, server_name, context):
    """SSLContext.sni_callback: keep the server name the client asked for."""
    connection.sni_name = server_name or ""


def make_tls_context(cert, key=None, client_ca=None, verify_client="optional"):
    """A server-side TLS context; with client_ca, client certificates are verified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED if verify_client == "required" else ssl.CERT_OPTIONAL
    context.sni_callback = remember_sni
    return context


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    quiet = False


class TLSServer(Server):
    """The HTTP server over TLS; each handshake runs in the connection's own thread."""

    context = None  # set by make_server()

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            connection = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            if not self.quiet:
                log("TLS handshake with %s failed: %s" % (client_address[0], exc))
            return
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            connection.close()


class LineEchoHandler(socketserver.StreamRequestHandler):
    """TCP: "NAME\\n" on connect, then every line back; closed in mode refuse."""

    timeout = IDLE_TIMEOUT
    name = None
    state = None

    def handle(self):
        try:
            if self.state.current()[0] == "refuse":
                return
            self.wfile.write(self.name.encode("utf-8") + b"\n")
            for line in self.rfile:
                if self.state.current()[0] == "refuse":
                    return
                self.wfile.write(line)
        except OSError:
            pass  # the peer went away or stayed silent too long


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class DatagramHandler(socketserver.BaseRequestHandler):
    """UDP: each datagram is answered with "NAME " and its payload."""

    name = None

    def handle(self):
        data, sock = self.request
        sock.sendto(self.name.encode("utf-8") + b" " + data, self.client_address)


class UDPServer(socketserver.UDPServer):
    # No SO_REUSEADDR: on UDP it would let a second process share the port
    # instead of failing loudly.
    allow_reuse_address = False
    max_packet_size = 65535


def make_server(bind, port, handler, quiet, server_class=Server, tls_context=None):
    attributes = {"quiet": quiet}
    if ":" in bind:
        attributes["address_family"] = socket.AF_INET6
    if tls_context is not None:
        attributes["context"] = tls_context
    server_class = type(server_class.__name__, (server_class,), attributes)
    return server_class((bind, port), handler)


class Listener:
    """Opens and closes one listening socket as the mode leaves or enters 'refuse'."""

    def __init__(self, label, bind, port, handler, quiet, server_class=Server, tls_context=None):
        self.label = label
        self.args = (bind, port, handler, quiet, server_class, tls_context)
        self.server = None
        self.thread = None

    def open(self):
        if self.server is None:
            self.server = make_server(*self.args)
            self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1})
            self.thread.daemon = True
            self.thread.start()
            log("%s: %s listening on %s port %d" % (self.args[2].name, self.label, self.args[0], self.args[1]))

    def close(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
            self.server = self.thread = None
            log("%s: %s refusing on port %d" % (self.args[2].name, self.label, self.args[1]))


def notify_ready():
    """Tell systemd (Type=notify) that the listeners are open, if it asked."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(b"READY=1")
    except OSError as exc:
        log("cannot notify %s: %s" % (os.environ["NOTIFY_SOCKET"], exc))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Backend test application of the balancer.nginx lab.")
    parser.add_argument("--name", required=True, help="backend name, sent in X-Backend and the body")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--bind", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--control-file", help="file holding the run-time state (mode and delay)")
    parser.add_argument("--hang-limit", type=float, default=600.0,
                        help="longest time a request is held in mode hang (default 600)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument("--tcp-port", type=int, help="also a TCP service: NAME on connect, then echoes lines")
    parser.add_argument("--udp-port", type=int, help="also a UDP service: answers each datagram with NAME and it")
    parser.add_argument("--https-port", type=int, help="also the HTTP service over TLS (needs --tls-cert)")
    parser.add_argument("--tls-cert", help="PEM certificate (chain) of the HTTPS service")
    parser.add_argument("--tls-key", help="PEM private key of the HTTPS service (default: in --tls-cert)")
    parser.add_argument("--tls-client-ca", help="verify client certificates against this PEM CA (mutual TLS)")
    parser.add_argument("--tls-verify-client", choices=("optional", "required"), default="optional",
                        help="with --tls-client-ca: is a client certificate required? (default optional)")
    args = parser.parse_args(argv)
    if args.https_port is not None and not args.tls_cert:
        parser.error("--https-port needs --tls-cert")
    if args.https_port is None and (args.tls_cert or args.tls_key or args.tls_client_ca):
        parser.error("--tls-cert, --tls-key and --tls-client-ca need --https-port")

    state = State(args.delay, args.control_file)
    bound = {"name": args.name, "state": state, "hang_limit": args.hang_limit}
    handler = type("BoundHandler", (Handler,), bound)
    listeners = [Listener("http", args.bind, args.port, handler, args.quiet)]
    if args.https_port is not None:
        context = make_tls_context(args.tls_cert, args.tls_key, args.tls_client_ca, args.tls_verify_client)
        listeners.append(Listener("https", args.bind, args.https_port, handler, args.quiet, TLSServer, context))
    if args.tcp_port is not None:
        tcp_handler = type("BoundLineEchoHandler", (LineEchoHandler,), bound)
        listeners.append(Listener("tcp", args.bind, args.tcp_port, tcp_handler, args.quiet, TCPServer))
    if args.udp_port is not None:
        udp_handler = type("BoundDatagramHandler", (DatagramHandler,), bound)
        listeners.append(Listener("udp", args.bind, args.udp_port, udp_handler, args.quiet, UDPServer))

    stop = threading.Event()
    heal = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: heal.set())

    try:
        if state.current()[0] != "refuse":
            for listener in listeners:
                listener.open()  # fails loudly if a port is taken
        notify_ready()
        while not stop.is_set():
            if heal.is_set():
                heal.clear()
                state.set("ok")
            refusing = state.current()[0] == "refuse"
            for listener in listeners:
                if refusing:
                    listener.close()
                else:
                    try:
                        listener.open()
                    except OSError as exc:
                        log("%s: cannot listen again yet on %s port %d: %s"
                            % (args.name, listener.label, listener.args[1], exc))
            stop.wait(0.1)
    finally:
        for listener in listeners:
            listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

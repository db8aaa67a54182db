"""Bounded keep-alive load against the proxy; counts every response and every failure. Standard library only.

    python3 load.py [--clients 20] [--duration 20] [--host-header example.com] [--port 80] [--pause 0.05]
                    [--start-when-changed FILE --from SHA256 [--wait-limit 600]] [--pid-file FILE]
                    [--after-reload SECONDS --max-duration SECONDS]

With --start-when-changed, the load starts only once FILE's SHA-256 differs
from --from (at once if it already does), polled every 50 ms for at most
--wait-limit seconds (then it exits 3 without any request): a converge that
rewrites an upstream file reloads Nginx a few tasks later, so the load is
running when the reload comes, however long the converge took to get there.

With --after-reload, the load goes on until the later of DURATION and
SECONDS after it saw Nginx reload (a worker process that was not there when
the load started), and never beyond --max-duration: on a busy machine the
converge's handlers can take longer than DURATION between writing the file
and the reload. A reload never seen ends the load at --max-duration.

CLIENTS threads each keep one HTTP/1.1 connection (http.client) to
127.0.0.1:PORT open and send GET / on it again and again, PAUSE seconds
apart, until DURATION seconds have passed since the start; then no new
request is sent, the requests in flight finish (each has a timeout of 15 s)
and one JSON object is printed:

    requests   every request: answered 200 + failed
    ok         answered 200
    failed     every request that did not get a 200, with its reason in failures (the first 20)
    retried    requests sent a second time on a new connection (see below); each is counted once
    backends   X-Backend of the 200s, per backend
    timeline   [[seconds since start, backend], ...] of every 200, for seeing which configuration answered when
    start, end seconds since the epoch
    waited     seconds waited for FILE to change
    reload_seen  seconds since start when a new worker was first seen (null: none)

Keep-alive and a reload. Nginx's reload starts new workers and asks the old
ones to finish gracefully: an old worker completes the request it is serving
(then closes that connection instead of keeping it alive) and closes its idle
keep-alive connections at once. A client that sends its next request on such
a connection finds it closed: the send fails (EPIPE, ECONNRESET) or the read
of the status line gets ECONNRESET or end of file, with not one byte of a
response. That is ordinary HTTP keep-alive (RFC 9112, section 9.3.1: a
client may retry an idempotent request on a new connection when the reused
connection closed before any response), and the server processed nothing.
So exactly this case is sent once more:

- the connection had already carried a complete response (it was reused, not new);
- not one byte of the response to this request was received (the socket's
  received bytes are counted: see CountingSocket);
- the error is a closed connection (ConnectionError or http.client.RemoteDisconnected),
  not a timeout;
- the request is an idempotent GET (all of them are), and it is the first attempt.

Everything else is a failure: a status other than 200, a timeout, an error
on a new connection (a refused connect included), an error after part of a
response, a malformed response, and any error of the second attempt.
"""

import argparse
import hashlib
import http.client
import io
import json
import os
import socket
import sys
import threading
import time

# Each socket operation may take this long before the request counts as failed. Not 5 s: on the shared 2-core
# machine (load average 50) the whole container stalled for up to 5.8 s (upstream_response_time of one response,
# long before any reload), which a 5 s bound reported as 12 timeouts.
TIMEOUT = 15.0


class CountingReader(io.RawIOBase):
    """The raw reader under the response's buffer: adds every byte received to the connection's count."""

    def __init__(self, sock, connection):
        super().__init__()
        self._sock, self._connection = sock, connection

    def readable(self):
        return True

    def readinto(self, buffer):
        count = self._sock.recv_into(buffer)
        self._connection.received += count
        return count


class CountingSocket:
    """A socket whose makefile("rb") (what http.client reads responses through) counts the bytes received."""

    def __init__(self, sock, connection):
        self._sock, self._connection = sock, connection

    def makefile(self, mode="r", buffering=None, **kwargs):
        assert mode == "rb", mode
        return io.BufferedReader(CountingReader(self._sock, self._connection))

    def __getattr__(self, name):
        return getattr(self._sock, name)


class Connection(http.client.HTTPConnection):
    """HTTPConnection that knows how many bytes it received and how many responses it completed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = 0
        self.completed = 0

    def connect(self):
        super().connect()
        self.sock = CountingSocket(self.sock, self)


class Stats:
    def __init__(self, start):
        self.lock = threading.Lock()
        self.start = start
        self.ok = self.failed = self.retried = 0
        self.failures = []
        self.backends = {}
        self.timeline = []

    def answered(self, backend):
        with self.lock:
            self.ok += 1
            self.backends[backend] = self.backends.get(backend, 0) + 1
            self.timeline.append([round(time.time() - self.start, 3), backend])

    def fail(self, reason):
        with self.lock:
            self.failed += 1
            if len(self.failures) < 20:
                self.failures.append("%.3f %s" % (time.time() - self.start, reason))

    def retry(self):
        with self.lock:
            self.retried += 1


def one_request(connection, args):
    """Send GET / on connection; return (status, backend) after reading the whole body."""
    connection.request("GET", "/", headers={"Host": args.host_header})
    response = connection.getresponse()
    response.read()
    connection.completed += 1
    if response.will_close:
        connection.close()
    return response.status, response.getheader("X-Backend", ""), response.will_close


def workers():
    """PIDs of the Nginx worker processes that take requests."""
    found = set()
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                if handle.read().rstrip(b"\0") == b"nginx: worker process":
                    found.add(entry)
        except OSError:
            continue
    return found


def watch_reload(args, began, deadline, seen, first):
    """Once a worker that is not in first shows up, end the load at max(DURATION, AFTER_RELOAD s later), within MAX_DURATION."""
    while time.monotonic() < deadline[0]:
        if workers() - first:
            now = time.monotonic()
            seen.append(round(now - began, 3))
            deadline[0] = min(max(began + args.duration, now + args.after_reload), began + args.max_duration)
            return
        time.sleep(0.1)


def client(args, deadline, stats):
    connection = None
    while time.monotonic() < deadline[0]:
        for attempt in (1, 2):
            if connection is None:
                connection = Connection("127.0.0.1", args.port, timeout=TIMEOUT)
            reused, before = connection.completed > 0, connection.received
            try:
                status, backend, closed = one_request(connection, args)
            except (ConnectionError, http.client.RemoteDisconnected) as exc:
                # RemoteDisconnected is a ConnectionResetError: both mean the peer closed the connection
                nothing_received = connection.received == before
                connection.close()
                connection = None
                if attempt == 1 and reused and nothing_received:
                    stats.retry()
                    continue
                stats.fail("attempt %d, %s connection, %s response bytes: %s: %s" % (
                    attempt, "reused" if reused else "new", "no" if nothing_received else "some",
                    type(exc).__name__, exc))
            except (OSError, http.client.HTTPException) as exc:
                # socket.timeout is an OSError; a timeout is never retried
                connection.close()
                connection = None
                stats.fail("attempt %d: %s: %s" % (attempt, type(exc).__name__, exc))
            else:
                if closed:
                    connection = None
                if status == 200:
                    stats.answered(backend)
                else:
                    stats.fail("attempt %d: status %d from %s" % (attempt, status, backend or "nginx"))
            break
        if args.pause:
            time.sleep(args.pause)
    if connection is not None:
        connection.close()


def digest(path):
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except FileNotFoundError:
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--host-header", default="example.com")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--pause", type=float, default=0.05)
    parser.add_argument("--start-when-changed", metavar="FILE")
    parser.add_argument("--from", dest="digest", metavar="SHA256")
    parser.add_argument("--wait-limit", type=float, default=600.0)
    parser.add_argument("--after-reload", type=float, default=0.0)
    parser.add_argument("--max-duration", type=float, default=0.0)
    parser.add_argument("--pid-file", help="write the process id there (for stopping a load that waits in vain)")
    args = parser.parse_args()
    if args.pid_file:
        with open(args.pid_file, "w") as handle:
            handle.write("%d\n" % os.getpid())
    args.max_duration = max(args.max_duration, args.duration)
    assert 0 < args.clients <= 50 and 0 < args.duration <= 60 and 0 < args.wait_limit <= 1800 and args.max_duration <= 300
    waited = time.monotonic()
    if args.start_when_changed:
        while digest(args.start_when_changed) == args.digest:
            if time.monotonic() - waited > args.wait_limit:
                print("%s did not change within %d s" % (args.start_when_changed, args.wait_limit), file=sys.stderr)
                sys.exit(3)
            time.sleep(0.05)
    waited = time.monotonic() - waited
    first = workers()
    start = time.time()
    began = time.monotonic()
    deadline = [began + (args.max_duration if args.after_reload else args.duration)]
    stats = Stats(start)
    seen = []
    if args.after_reload:
        threading.Thread(target=watch_reload, args=(args, began, deadline, seen, first), daemon=True).start()
    threads = [threading.Thread(target=client, args=(args, deadline, stats), daemon=True) for dummy in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # a request in flight at the deadline ends within TIMEOUT (per socket operation)
        thread.join(args.max_duration + 6 * TIMEOUT)
    alive = sum(1 for thread in threads if thread.is_alive())
    if alive:
        stats.fail("%d clients still running after the time bound" % alive)
    print(json.dumps({"requests": stats.ok + stats.failed, "ok": stats.ok, "failed": stats.failed,
                      "retried": stats.retried, "failures": stats.failures, "backends": stats.backends,
                      "timeline": stats.timeline, "start": start, "end": time.time(),
                      "clients": args.clients, "duration": args.duration, "waited": round(waited, 3),
                      "reload_seen": seen[0] if seen else None}))


if __name__ == "__main__":
    socket.setdefaulttimeout(TIMEOUT)
    main()

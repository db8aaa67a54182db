"""Open a bounded number of TCP connections, or send UDP datagrams, to 127.0.0.1 and count who answered.

Test helper of the integration targets (stdlib only), for a stream proxy in
front of the lab backends (lab/backend/balancer_backend.py):

    stream_count.py tcp PORT [--count N] [--timeout S] [--name-only]
        N connections, one after the other: read the first line (the backend
        sends its name on connect), send "probe-I", expect it echoed, close.
        With --name-only, close after the first line: for a server that says
        a line and closes (a stream "return"), since data sent to a socket
        that is closing is answered with a reset.
    stream_count.py udp PORT [--count N] [--timeout S]
        N datagrams "probe-I", each from a new socket (a new session for the
        proxy); the answer is "NAME probe-I".

Prints JSON {"total": N, "backends": {NAME: count}, "sequence": [NAME, ...],
"echoed": count of exchanges whose payload came back intact, "errors": count
of exchanges that failed (refused, timed out, closed, garbled), "error":
the first failure or null}.
Every socket operation has a timeout, so the helper always ends.
"""
import argparse
import json
import socket
import sys

MAX_COUNT = 1000


def tcp_exchange(port, index, timeout, name_only=False):
    payload = "probe-%d" % index
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        reader = sock.makefile("r", encoding="utf-8", newline="\n")
        name = reader.readline()
        if not name.endswith("\n"):
            raise OSError("no name line (got %r)" % name)
        if name_only:
            return name.strip(), False
        sock.sendall((payload + "\n").encode("utf-8"))
        echo = reader.readline()
        return name.strip(), echo == payload + "\n"


def udp_exchange(port, index, timeout):
    payload = "probe-%d" % index
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
        sock.send(payload.encode("utf-8"))
        answer = sock.recv(65536).decode("utf-8", "replace")
    name, dummy, echo = answer.partition(" ")
    if not name:
        raise OSError("empty answer")
    return name, echo == payload


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("protocol", choices=("tcp", "udp"))
    parser.add_argument("port", type=int)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--name-only", action="store_true", help="tcp: read the first line, send nothing")
    args = parser.parse_args()
    if not 0 < args.count <= MAX_COUNT:
        sys.exit("--count must be 1 to %d" % MAX_COUNT)
    if args.name_only and args.protocol != "tcp":
        sys.exit("--name-only is for tcp")
    backends, sequence = {}, []
    echoed = errors = 0
    first_error = None
    for index in range(args.count):
        try:
            if args.protocol == "tcp":
                name, intact = tcp_exchange(args.port, index, args.timeout, args.name_only)
            else:
                name, intact = udp_exchange(args.port, index, args.timeout)
        except (OSError, UnicodeError) as exc:
            errors += 1
            first_error = first_error or "%s #%d: %s" % (args.protocol, index, exc)
            sequence.append(None)
            continue
        backends[name] = backends.get(name, 0) + 1
        sequence.append(name)
        echoed += 1 if intact else 0
    print(json.dumps({"total": args.count, "backends": backends, "sequence": sequence, "echoed": echoed,
                      "errors": errors, "error": first_error}, sort_keys=True))


if __name__ == "__main__":
    main()

"""Open a bounded number of TCP connections, or send UDP datagrams, to 127.0.0.1 and count who answered.

Test helper of the integration targets (stdlib only), for a stream proxy in
front of the lab backends (lab/backend/balancer_backend.py):

    stream_count.py tcp PORT [--count N] [--timeout S]
        N connections, one after the other: read the first line (the backend
        sends its name on connect), send "probe-I", expect it echoed, close.
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


def tcp_exchange(port, index, timeout):
    payload = "probe-%d" % index
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        reader = sock.makefile("r", encoding="utf-8", newline="\n")
        name = reader.readline()
        if not name.endswith("\n"):
            raise OSError("no name line (got %r)" % name)
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
    args = parser.parse_args()
    if not 0 < args.count <= MAX_COUNT:
        sys.exit("--count must be 1 to %d" % MAX_COUNT)
    exchange = tcp_exchange if args.protocol == "tcp" else udp_exchange
    backends, sequence = {}, []
    echoed = errors = 0
    first_error = None
    for index in range(args.count):
        try:
            name, intact = exchange(args.port, index, args.timeout)
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

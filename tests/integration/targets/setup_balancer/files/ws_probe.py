"""Send one WebSocket upgrade request to 127.0.0.1 and echo a few bytes (stdlib only).

Test helper of the integration targets:
    ws_probe.py URL [--send TEXT] [--header 'Name: value' ...]
Prints JSON {"status": 101, "headers": {lower-case name: value}, "echo": TEXT}
("echo" is what came back after the upgrade, null when nothing did).
Every socket operation has a timeout, so the probe always ends.
"""
import argparse
import base64
import json
import os
import socket
import sys
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--send", default="ping")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    if url.hostname != "127.0.0.1":
        sys.exit("refusing to connect anywhere but 127.0.0.1")
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    lines = ["GET %s HTTP/1.1" % (url.path or "/"), "Host: %s" % url.netloc,
             "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: %s" % key, "Sec-WebSocket-Version: 13"] + args.header
    sock = socket.create_connection((url.hostname, url.port or 80), timeout=args.timeout)
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, dummy, rest = data.partition(b"\r\n\r\n")
        head_lines = head.decode("latin-1").split("\r\n")
        status = int(head_lines[0].split()[1]) if head_lines and len(head_lines[0].split()) > 1 else None
        headers = {}
        for line in head_lines[1:]:
            name, dummy, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        echo = None
        if status == 101:
            sock.sendall(args.send.encode("utf-8"))
            want = len(args.send.encode("utf-8"))
            got = rest
            try:
                while len(got) < want:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    got += chunk
            except socket.timeout:
                pass
            echo = got.decode("utf-8", "replace") if got else None
    finally:
        sock.close()
    print(json.dumps({"status": status, "headers": headers, "echo": echo}, sort_keys=True))


if __name__ == "__main__":
    main()

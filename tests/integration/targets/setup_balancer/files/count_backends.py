"""Send a bounded number of HTTP requests to 127.0.0.1 and count who answered.

Test helper of the integration targets (stdlib only). Prints JSON:
{"total": N, "backends": {NAME: count}, "statuses": {CODE: count},
 "by_path": {PATH: {NAME: count}}, "elapsed": seconds}
The backend is identified by a response header (default X-Backend);
requests that fail at the socket level count under status "error".
--host sends that Host header (to pick a vhost by server_name).
--source sends every request from that local address (one of 127.0.0.0/8),
so that Nginx sees it as $remote_addr.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

MAX_REQUESTS = 2000


def fetch_from(source, url, header, timeout, host=None):
    """One GET from the local address ``source`` (urllib cannot choose it)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""),
                     headers={"Connection": "close", "Host": host or parts.netloc})
        resp = conn.getresponse()
        resp.read()
        return str(resp.status), resp.getheader(header) or "-"
    except (OSError, http.client.HTTPException):
        return "error", "-"
    finally:
        conn.close()


def fetch(url, header, timeout, host=None, source=None):
    if source:
        return fetch_from(source, url, header, timeout, host)
    headers = {"Connection": "close"}
    if host:
        headers["Host"] = host
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            return str(resp.status), resp.headers.get(header) or "-"
    except urllib.error.HTTPError as exc:
        exc.read()
        return str(exc.code), exc.headers.get(header) or "-"
    except (urllib.error.URLError, OSError):
        return "error", "-"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--path", action="append", default=[],
                        help="request path (repeatable; default /)")
    parser.add_argument("--requests", type=int, default=30,
                        help="requests per path")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--header", default="X-Backend")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--host", help="Host header to send")
    parser.add_argument("--source", help="local address to send from (127.0.0.0/8)")
    args = parser.parse_args()
    if args.source and not args.source.startswith("127."):
        sys.exit("--source must be a loopback address 127.x.x.x")

    host = urllib.parse.urlsplit(args.base).hostname
    if host != "127.0.0.1":
        sys.exit("refusing to send traffic anywhere but 127.0.0.1")
    paths = args.path or ["/"]
    if args.requests * len(paths) > MAX_REQUESTS:
        sys.exit("at most %d requests" % MAX_REQUESTS)

    jobs = [p for p in paths for dummy in range(args.requests)]
    results = [None] * len(jobs)
    lock = threading.Lock()
    cursor = [0]

    def worker():
        while True:
            with lock:
                i = cursor[0]
                if i >= len(jobs):
                    return
                cursor[0] += 1
            results[i] = (jobs[i],) + fetch(args.base + jobs[i], args.header,
                                            args.timeout, args.host, args.source)

    start = time.monotonic()
    if args.concurrency <= 1:
        worker()
    else:
        threads = [threading.Thread(target=worker)
                   for dummy in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elapsed = time.monotonic() - start

    backends, statuses, by_path = {}, {}, {}
    for path, status, name in results:
        statuses[status] = statuses.get(status, 0) + 1
        if status == "200":
            backends[name] = backends.get(name, 0) + 1
            per = by_path.setdefault(path, {})
            per[name] = per.get(name, 0) + 1
    print(json.dumps({"total": len(results), "backends": backends,
                      "statuses": statuses, "by_path": by_path,
                      "elapsed": round(elapsed, 3)}, sort_keys=True))


if __name__ == "__main__":
    main()

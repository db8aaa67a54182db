"""Send COUNT requests one after the other to the proxy on 127.0.0.1; print one JSON list.

    python3 burst.py --count N --tag TAG [--method GET|POST] [--host-header example.com]

Request i asks for /?req=TAG-i (so that the access log names it), on a new
connection, with a timeout of 15 s. Each item of the output is
{"req": "TAG-i", "start": t, "end": t, "status": 200, "backend": "app1"}, the
times in seconds since the epoch; a request that got no answer has status 0
and the error in "backend". Standard library only.
"""

import argparse
import http.client
import json
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--method", default="GET", choices=["GET", "POST"])
    parser.add_argument("--host-header", default="example.com")
    args = parser.parse_args()
    assert 0 < args.count <= 100
    results = []
    for number in range(1, args.count + 1):
        req = "%s-%d" % (args.tag, number)
        start = time.time()
        conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=15)
        try:
            body = b"payload=%d" % number if args.method == "POST" else None
            conn.request(args.method, "/?req=" + req, body=body, headers={"Host": args.host_header})
            response = conn.getresponse()
            response.read()
            response_status, backend = response.status, response.getheader("X-Backend", "")
        except (OSError, http.client.HTTPException) as exc:
            response_status, backend = 0, "%s: %s" % (type(exc).__name__, exc)
        finally:
            conn.close()
        results.append({"req": req, "start": start, "end": time.time(), "status": response_status, "backend": backend})
    print(json.dumps(results))


if __name__ == "__main__":
    main()

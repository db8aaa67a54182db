"""Established TCP connections from 127.0.0.1 to the given ports (stdlib only).

Test helper of the integration targets: reads /proc/net/tcp and prints JSON
{"PORT": ["LOCAL_PORT", ...]} (sorted) for every remote port asked for, so
that a test can see which proxy->backend connections stay open between
requests (upstream keepalive) and whether the same ones are reused.
"""
import json
import sys

ESTABLISHED = "01"
LOOPBACK = "0100007F"  # 127.0.0.1, little endian hex


def main():
    ports = sorted(set(int(p) for p in sys.argv[1:]))
    found = dict((str(p), []) for p in ports)
    with open("/proc/net/tcp", encoding="ascii") as handle:
        next(handle)
        for line in handle:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state != ESTABLISHED:
                continue
            raddr, rport = remote.split(":")
            laddr, lport = local.split(":")
            if raddr != LOOPBACK or laddr != LOOPBACK:
                continue
            rport = int(rport, 16)
            if rport in ports:
                found[str(rport)].append(str(int(lport, 16)))
    print(json.dumps(dict((k, sorted(v)) for k, v in found.items()), sort_keys=True))


if __name__ == "__main__":
    main()

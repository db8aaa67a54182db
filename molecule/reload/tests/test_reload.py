"""Reloads under load drop nothing: five converges with balancer.nginx.deploy while every proxy serves 20 keep-alive clients.

For each change of app_backend (membership and weights, STEPS) the verifier
starts files/load.py inside every proxy (20 clients on keep-alive connections
to 127.0.0.1:80, every response and every failure counted), runs
ansible-playbook balancer.nginx.deploy with the changed group as extra
variables (as operators do; all three proxies in one batch), and waits for the
load to end. The load starts when the run rewrites the group file and lasts
20 s, or until 10 s after it saw the reload when the handlers got there later
(at most 180 s): on this shared 2-core machine the handlers took up to 48 s
from the write to the reload. Each run must change the group file and reload Nginx through
systemd once per proxy, inside the load (journal times), and the load must
show the new group answering after the reload. The last step is the
scenario's own group again. At the end it prints one line:
"reload under load: N requests, 0 failed".

The deploy's own verification is off here: it counts its requests' split
exactly, which the load's requests (sharing the round robin) disturb; the
load's own record of X-Backend per response checks the split instead.
"""

import concurrent.futures
import json
import os
import re

from lab_ops import PROXIES, node, playbook, recap

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS, DURATION = 20, 20
# on a busy machine the handlers took up to 48 s between writing the group file and the reload: the load goes on
# until the later of 20 s and 10 s after it saw the reload, within 180 s
AFTER_RELOAD, MAX_DURATION = 10, 180
# fewest requests one proxy's 20 clients must complete in 20 s: one per client and second (an idle
# machine does about 10 times as many; the clients pause 50 ms between requests)
MIN_REQUESTS = CLIENTS * DURATION
GROUP_FILE = "/etc/nginx/conf.d/app_backend.conf"
PID_FILE = "/run/balancer-load.pid"
NAMES = {"127.0.0.1:8081": "app1", "127.0.0.1:8082": "app2", "127.0.0.1:8083": "app3"}


def group(*servers):
    return [{"name": "app_backend", "servers": [{"address": address, "weight": weight} for address, weight in servers]}]


# each step changes the membership or the weights of app_backend; the last is the scenario's own group
STEPS = [
    ("weights 3:2:1", group(("127.0.0.1:8081", 3), ("127.0.0.1:8082", 2), ("127.0.0.1:8083", 1))),
    ("app3 removed", group(("127.0.0.1:8081", 1), ("127.0.0.1:8082", 1))),
    ("app3 back, 1:1:2", group(("127.0.0.1:8081", 1), ("127.0.0.1:8082", 1), ("127.0.0.1:8083", 2))),
    ("app1 removed, 2:1", group(("127.0.0.1:8082", 2), ("127.0.0.1:8083", 1))),
    ("the scenario's 1:1:1", group(("127.0.0.1:8081", 1), ("127.0.0.1:8082", 1), ("127.0.0.1:8083", 1))),
]


def handler(output, title):
    """The lines of the one run of the role's handler TITLE in output."""
    blocks = output.split("RUNNING HANDLER [balancer.nginx.load_balancer : %s]" % title)
    assert len(blocks) == 2, output
    return re.split(r"\n(?:TASK|RUNNING HANDLER|PLAY) \[", blocks[1])[0]


def reloads(name):
    """[(started, finished)] of every reload of nginx.service since boot, in seconds since the epoch."""
    out = node(name).check_output("journalctl -b -u nginx.service -o short-unix | grep -E ' (Reloading|Reloaded) ' || true")
    times = [(float(line.split()[0]), "Reloaded" in line) for line in out.splitlines()]
    started = [moment for moment, done in times if not done]
    finished = [moment for moment, done in times if done]
    assert len(started) == len(finished), out
    return list(zip(started, finished))


def group_file_digest(name):
    return node(name).check_output("sha256sum < %s | cut -c1-64" % GROUP_FILE).strip()


def load(name, digest):
    """Run load.py on proxy name from the moment the group file no longer has this digest; return its result."""
    return json.loads(node(name).check_output(
        "python3 /usr/local/bin/load.py --clients %d --duration %d --start-when-changed %s --from %s --wait-limit 300 "
        "--after-reload %d --max-duration %d --pid-file %s" % (CLIENTS, DURATION, GROUP_FILE, digest, AFTER_RELOAD,
                                                               MAX_DURATION, PID_FILE)))


def servers(name):
    """[(address, weight)] of the group file on proxy name."""
    text = node(name).check_output("cat %s" % GROUP_FILE)
    return [(address, int(weight or 1)) for address, weight in re.findall(r"^\s*server\s+(\S+?)(?:\s+weight=(\d+))?;", text, re.M)]


def servers_of(upstreams):
    return [(server["address"], server["weight"]) for server in upstreams[0]["servers"]]


def shares(timeline, since, until):
    answered = [backend for moment, backend in timeline if since <= moment <= until]
    return len(answered), dict((backend, answered.count(backend) / len(answered)) for backend in set(answered))


def test_five_reloads_under_load_drop_no_request():
    for name in PROXIES:
        node(name).ansible("copy", "src=%s dest=/usr/local/bin/load.py mode=0755" % os.path.join(HERE, "..", "files", "load.py"),
                           check=False)
    total = failed = 0
    previous = STEPS[-1][1]
    # start from the scenario's group (what the converge left, unless an earlier verify stopped halfway)
    if any(servers(name) != servers_of(previous) for name in PROXIES):
        rc, out = playbook("deploy", {"load_balancer_upstreams": previous})
        assert rc == 0, out
    with concurrent.futures.ThreadPoolExecutor(len(PROXIES)) as pool:
        for label, upstreams in STEPS:
            before = dict((name, reloads(name)) for name in PROXIES)
            digests = dict((name, group_file_digest(name)) for name in PROXIES)
            running = dict((name, pool.submit(load, name, digests[name])) for name in PROXIES)
            rc, out = playbook("deploy", {"load_balancer_upstreams": upstreams, "load_balancer_verify": False,
                                          "load_balancer_serial": len(PROXIES)})
            for name in PROXIES:
                # a run that did not rewrite the group file leaves the load waiting for it: stop it (it then fails)
                node(name).run("[ \"$(sha256sum < %s | cut -c1-64)\" != %s ] || kill $(cat %s)" % (GROUP_FILE, digests[name], PID_FILE))
            results = dict((name, future.result()) for name, future in running.items())
            assert rc == 0, out
            for name in PROXIES:
                result = results[name]
                report = "%s on %s: %s" % (label, name, dict((k, v) for k, v in result.items() if k != "timeline"))
                total += result["requests"]
                failed += result["failed"]
                assert result["failed"] == 0, report
                assert result["requests"] == result["ok"] >= MIN_REQUESTS, report
                # the run changed the group and reloaded this proxy once, through systemd, inside its load
                assert recap(out)[name]["changed"] >= 1 and recap(out)[name]["failed"] == 0, out
                assert "changed: [%s]" % name in handler(out, "Reload Nginx through systemd"), out
                new = reloads(name)[len(before[name]):]
                assert len(new) == 1, "%s: %s reloads" % (report, new)
                started, finished = new[0][0] - result["start"], new[0][1] - result["start"]
                assert 0 < started and finished <= result["end"] - result["start"] - 3, (
                    "%s: the reload (%.1f-%.1f s) was not inside the load" % (report, started, finished))
                # the old group answered before the reload, the new one after it, in its weights' shares
                old_members = set(NAMES[server["address"]] for server in previous[0]["servers"])
                count, seen = shares(result["timeline"], 0, started)
                assert count > 0 and set(seen) <= old_members, (report, seen)
                weights = dict((NAMES[server["address"]], server["weight"]) for server in upstreams[0]["servers"])
                count, seen = shares(result["timeline"], finished + 1, result["end"] - result["start"])
                assert count >= 2 * CLIENTS and set(seen) == set(weights), (report, seen)
                for backend, weight in weights.items():
                    assert abs(seen[backend] - weight / sum(weights.values())) < 0.05, (report, seen)
            previous = upstreams
    assert failed == 0
    print("\nreload under load: %d requests, %d failed" % (total, failed))

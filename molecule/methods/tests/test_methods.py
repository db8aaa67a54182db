"""The balancing methods, proven with real requests through the Nginx that balancer.nginx.deploy converged.

Every request is sent with curl from inside the container to 127.0.0.1:80,
with the Host of one method's vhost (see molecule.yml), in bounded loops.
X-Backend names the app that answered (app1..app3 on 8081..8083, other on
8090); the vhost's upstream_debug access log names the server Nginx picked.
The expected numbers are literals here: they come from how Nginx balances, not
from the collection's code. Each test prints one line of measured counts,
"methods: PROXY: ...", for the record.
"""

import collections
import re

import pytest

APPS = {"8081": "app1", "8082": "app2", "8083": "app3", "8090": "other"}

# ip_hash keys on the first three octets of an IPv4 client address, and all of
# 127.0.0.0/8 is loopback: each network below is a different client, and two
# addresses in one network are the same client.
IP_HASH_NETWORKS = ["127.%d.%d" % (a, b) for a, b in
                    [(10, 1), (20, 2), (30, 3), (40, 4), (50, 5), (60, 6), (70, 7), (80, 8), (90, 9), (100, 10),
                     (110, 11), (120, 12)]]
HASH_KEYS = 200


@pytest.fixture(scope="module")
def proxy(host):
    return host.backend.get_hostname()


def record(proxy, text):
    """Print one short line of measured counts (Molecule wraps its output at 80 columns)."""
    print("\nmethods %s: %s" % (proxy.rsplit("-", 1)[-1], text))


def counts(answers):
    return dict(collections.Counter(backend for dummy, backend in answers))


def shown(split):
    return " ".join("%s=%d" % (name, split.get(name, 0)) for name in sorted(split))


def get(host, vhost, target, interface=None, max_time=10):
    """[(status, X-Backend)] of one curl over ``target`` (a curl glob such as /w/[1-11]), requests in order."""
    match = re.search(r"\[(\d+)-(\d+)\]", target)
    expected = int(match.group(2)) - int(match.group(1)) + 1 if match else 1
    assert 0 < expected <= 500
    out = host.check_output(
        "curl -s --max-time %d %s-H 'Host: %s' -o /dev/null -w '%%{http_code} %%header{x-backend}\\n' "
        "'http://127.0.0.1%s'" % (max_time, "--interface %s " % interface if interface else "", vhost, target))
    answers = [tuple((line.split(" ", 1) + [""])[:2]) for line in out.splitlines()]
    assert len(answers) == expected, out
    return answers


def log_size(host, vhost):
    return int(host.check_output("stat -c %%s /var/log/nginx/%s.upstream.log" % vhost))


def log_since(host, vhost, offset, count):
    """[(client, request target, last upstream address)] of the ``count`` lines logged after byte ``offset``."""
    path = "/var/log/nginx/%s.upstream.log" % vhost
    host.run_expect([0], "for i in $(seq 50); do [ $(tail -c +%d %s | wc -l) -ge %d ] && exit 0; sleep 0.1; done; exit 1"
                    % (offset + 1, path, count))
    lines = []
    for line in host.check_output("tail -c +%d %s" % (offset + 1, path)).splitlines():
        match = re.match(r"^(\S+) \S+ GET (\S+) .* upstream=(.*?) upstream_status=", line)
        assert match, "not an upstream_debug line: %r" % line
        lines.append((match.group(1), match.group(2), match.group(3).split(", ")[-1]))
    assert len(lines) == count
    return lines


def reload_nginx(host):
    """Reload through systemd and wait until the old worker has gone: the new worker starts with fresh state."""
    old = host.check_output("pgrep -d ' ' -f 'nginx: worker'")
    host.run_expect([0], "systemctl reload nginx")
    host.run_expect([0], "for i in $(seq 100); do pgrep -f 'nginx: worker' | grep -qx -e %s || exit 0; sleep 0.1; done; "
                         "exit 1" % " -e ".join(old.split()))
    assert host.service("nginx").is_running


def set_mode(host, app, mode):
    """Switch a backend test app's state (``ok``, ``ok 4``, ``refuse``) and wait until its port reflects it."""
    port = {v: k for k, v in APPS.items()}[app]
    host.run_expect([0], "echo %s > /run/balancer-backend/%s.control" % (mode, app))
    listening = "ss -Hltn 'sport = :%s' | grep -q ." % port
    wanted = "! " + listening if mode == "refuse" else listening
    host.run_expect([0], "for i in $(seq 50); do %s && exit 0; sleep 0.1; done; exit 1" % wanted)
    assert host.check_output("cat /run/balancer-backend/%s.control" % app) == mode


def test_weights_3_2_1_give_the_smooth_weighted_round_robin_split(host, proxy):
    """From a fresh worker, 11 requests are 5/4/2 in the order app1 app2 app1 app3 app2 app1 (and again); then 60 are 30/20/10."""
    reload_nginx(host)
    offset = log_size(host, "weighted.test")
    first = get(host, "weighted.test", "/w/[1-11]")
    assert [status for status, dummy in first] == ["200"] * 11
    record(proxy, "weights 11 requests -> %s" % shown(counts(first)))
    # smooth weighted round robin; a plain one would send app1 app1 app1 app2 app2 app3 and give 6/4/1
    assert [backend for dummy, backend in first] == [
        "app1", "app2", "app1", "app3", "app2", "app1", "app1", "app2", "app1", "app3", "app2"]
    assert counts(first) == {"app1": 5, "app2": 4, "app3": 2}
    logged = log_since(host, "weighted.test", offset, 11)
    assert [APPS[address.rsplit(":", 1)[1]] for dummy, dummy, address in logged] == [b for dummy, b in first]
    # any 60 consecutive requests are ten full rounds of six, wherever the first one starts
    more = get(host, "weighted.test", "/w/[1-60]")
    assert [status for status, dummy in more] == ["200"] * 60
    record(proxy, "weights 60 requests -> %s" % shown(counts(more)))
    assert counts(more) == {"app1": 30, "app2": 20, "app3": 10}


def test_least_conn_sends_new_requests_away_from_a_slow_backend(host, proxy):
    """app1 answers after 4 s; 30 requests started 0.1 s apart: round robin would give it 10, least_conn far fewer."""
    total = 30
    try:
        set_mode(host, "app1", "ok 4")
        out = host.check_output(
            "d=$(mktemp -d); for i in $(seq %d); do "
            "curl -s --max-time 30 -H 'Host: least.test' -o /dev/null -w '%%{http_code} %%header{x-backend}\\n' "
            "http://127.0.0.1/slow/$i > $d/$i & sleep 0.1; done; wait; cat $d/*; rm -r $d" % total)
    finally:
        set_mode(host, "app1", "ok")
    answers = [tuple((line.split(" ", 1) + [""])[:2]) for line in out.splitlines()]
    assert len(answers) == total, out
    assert {status for status, dummy in answers} == {"200"}, out
    split = counts(answers)
    record(proxy, "least_conn, app1 slow -> %s" % shown(split))
    assert set(split) <= {"app1", "app2", "app3"}
    assert split.get("app1", 0) <= 5, "the slow backend got %s" % split
    for fast in ("app2", "app3"):
        assert split.get(fast, 0) >= 10 and split.get(fast, 0) >= 2 * split.get("app1", 0), split


def test_ip_hash_keeps_each_client_on_one_backend_and_spreads_clients(host, proxy):
    """Each /24 network is one client: every request from it (two addresses, 4 requests each) gets one backend."""
    offset = log_size(host, "sticky-ip.test")
    chosen = {}
    for network in IP_HASH_NETWORKS:
        answers = []
        for address in ("%s.1" % network, "%s.200" % network):
            answers += get(host, "sticky-ip.test", "/ip/[1-4]", interface=address)
        assert {status for status, dummy in answers} == {"200"}, network
        backends = {backend for dummy, backend in answers}
        assert len(backends) == 1, "client %s.0/24 was sent to %s" % (network, sorted(backends))
        chosen[network] = backends.pop()
    # Nginx saw the source addresses (not 127.0.0.1), and logged the same backend as X-Backend
    logged = log_since(host, "sticky-ip.test", offset, 8 * len(IP_HASH_NETWORKS))
    for client, dummy, address in logged:
        network = client.rsplit(".", 1)[0]
        assert client in ("%s.1" % network, "%s.200" % network), client
        assert APPS[address.rsplit(":", 1)[1]] == chosen[network], (client, address)
    split = dict(collections.Counter(chosen.values()))
    record(proxy, "ip_hash %d clients -> %s" % (len(chosen), shown(split)))
    assert set(split) == {"app1", "app2", "app3"}, "the clients were not spread: %s" % chosen


def test_consistent_hash_moves_only_the_keys_of_the_removed_server(host, proxy):
    """hash $request_uri consistent over four servers, then over three (without other on 8090): only other's keys move."""
    target = "/key/[1-%d]" % HASH_KEYS
    offset = log_size(host, "hash-four.test")
    four = get(host, "hash-four.test", target)
    three = get(host, "hash-three.test", target)
    assert {status for status, dummy in four + three} == {"200"}
    # the same key always goes to the same server
    assert get(host, "hash-four.test", target) == four
    # the log is the ground truth of which server answered (X-Backend agrees)
    logged = log_since(host, "hash-four.test", offset, 2 * HASH_KEYS)
    for number, (dummy, uri, address) in enumerate(logged[:HASH_KEYS], start=1):
        assert uri == "/key/%d" % number
        assert APPS[address.rsplit(":", 1)[1]] == four[number - 1][1], (uri, address)
    before = [backend for dummy, backend in four]
    after = [backend for dummy, backend in three]
    assert set(before) == {"app1", "app2", "app3", "other"}
    assert set(after) == {"app1", "app2", "app3"}
    moved = [key for key in range(HASH_KEYS) if before[key] != after[key]]
    on_removed = [key for key in range(HASH_KEYS) if before[key] == "other"]
    record(proxy, "hash, 4 servers -> %s" % shown(counts(four)))
    record(proxy, "hash, 3 servers -> %s" % shown(counts(three)))
    record(proxy, "hash moved %d of %d keys, %d of them from other" % (len(moved), HASH_KEYS, len(set(moved) & set(on_removed))))
    assert moved == on_removed, "keys moved between servers that stayed: %s" % sorted(set(moved) - set(on_removed))
    # about 1/4 of the keys were on the removed server
    assert HASH_KEYS * 0.125 <= len(moved) <= HASH_KEYS * 0.4, len(moved)


def test_random_two_spreads_over_every_backend(host, proxy):
    answers = get(host, "pick-two.test", "/r/[1-60]")
    assert {status for status, dummy in answers} == {"200"}
    split = counts(answers)
    record(proxy, "random two 60 requests -> %s" % shown(split))
    assert set(split) == {"app1", "app2", "app3"}, split
    # uniform would be 20 each; below 5 has a probability of about 1e-6 per backend
    assert min(split.values()) >= 5 and max(split.values()) <= 40, split


def test_backup_gets_nothing_while_a_primary_is_up_and_everything_when_all_are_down(host, proxy):
    up = get(host, "with-backup.test", "/b/[1-30]")
    assert {status for status, dummy in up} == {"200"}
    assert counts(up) == {"app1": 15, "app2": 15}
    try:
        set_mode(host, "app1", "refuse")
        one_up = get(host, "with-backup.test", "/b/[1-30]")
        set_mode(host, "app2", "refuse")
        none_up = get(host, "with-backup.test", "/b/[1-30]")
    finally:
        set_mode(host, "app1", "ok")
        set_mode(host, "app2", "ok")
    assert {status for status, dummy in one_up} == {"200"}
    assert counts(one_up) == {"app2": 30}
    assert {status for status, dummy in none_up} == {"200"}
    assert counts(none_up) == {"app3": 30}
    # Nginx keeps a failed server out for fail_timeout (10 s); a reload starts afresh
    reload_nginx(host)
    back = get(host, "with-backup.test", "/b/[1-30]")
    assert counts(back) == {"app1": 15, "app2": 15}
    for label, answers in (("up", up), ("app1 down", one_up), ("app1+2 down", none_up), ("healed", back)):
        record(proxy, "backup 30 requests, %s -> %s" % (label, shown(counts(answers))))

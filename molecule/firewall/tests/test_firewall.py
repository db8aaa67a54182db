"""Backend ports scoped to the proxy: a client that is not the proxy is refused, the proxy gets through.

balancer.nginx.deploy converged this scenario: the firewall entry point on the
backends (nftables), then main on the proxy. Requests go with curl from inside
the lab containers to each other, in bounded loops; the restart and reboot
tests come last because they change the containers. The client also stands in
for an administrator's host: a TCP session it holds open to a backend (as an
SSH session would be) must live through the role loading its table again.
"""

import base64
import collections
import json
import os
import subprocess
import tempfile
import time

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = AnsibleRunner(INVENTORY)
TABLE = "inet balancer_nginx"
NFT_FILE = "/etc/nftables.d/balancer-nginx.nft"
# a session from the client to a backend's TCP echo (app1's 9081, not a backend port of the group): the
# greeting, a line before the table is loaded again, a line every second meanwhile (the app closes a
# connection idle for 120 s), a line after; bounded to 240 s
SESSION = """
import os, socket, sys, time
log = open("/tmp/lab-session.log", "w", buffering=1)
try:
    with socket.create_connection((sys.argv[1], 9081), timeout=10) as conn:
        lines = conn.makefile("r")
        log.write("greeting %s" % lines.readline())
        conn.sendall(b"before\\n")
        log.write("echo %s" % lines.readline())
        ticks = 0
        deadline = time.monotonic() + 240
        while not os.path.exists("/tmp/lab-session.go") and time.monotonic() < deadline:
            conn.sendall(b"tick\\n")
            if lines.readline() != "tick\\n":
                break
            ticks += 1
            time.sleep(1)
        log.write("ticks echoed %s\\n" % ("all" if ticks > 0 and os.path.exists("/tmp/lab-session.go") else ticks))
        conn.sendall(b"after\\n")
        log.write("echo %s" % lines.readline())
    log.write("closed\\n")
except OSError as exc:
    log.write("cut: %r\\n" % exc)
log.write("end\\n")
"""


def node(name):
    return testinfra.get_host("ansible://%s" % name, ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def proxy():
    return RUNNER.get_hosts("proxies")[0]


@pytest.fixture(scope="module")
def client():
    return RUNNER.get_hosts("clients")[0]


@pytest.fixture(scope="module")
def backends():
    """[(inventory name, port, app name)] of every backend host."""
    result = []
    for name in RUNNER.get_hosts("backends"):
        variables = RUNNER.get_variables(name)
        result.append((name, variables["balancer_server"]["port"], variables["lab_app"]))
    assert len(result) == 3
    return result


def timed_curl(source, url):
    """(curl exit code, HTTP status, X-Backend, seconds curl took) of one GET from host ``source``; at most 3 s.

    The time is curl's own (time_total), not the round trip of docker exec, which a busy machine stretches.
    """
    cmd = node(source).run("curl -s -o /dev/null -w '%%{http_code} %%{time_total} %%header{x-backend}' --max-time 3 '%s'" % url)
    status, seconds, backend = (cmd.stdout.split(" ", 2) + ["", ""])[:3]
    return cmd.rc, status, backend.strip(), float(seconds or "nan")


def curl(source, url):
    """(curl exit code, HTTP status, X-Backend) of one GET from host ``source``; at most 3 s."""
    return timed_curl(source, url)[:3]


def assert_scoped(proxy, client, backends):
    for name, port, app in backends:
        url = "http://%s:%d/" % (name, port)
        rc, status, dummy, seconds = timed_curl(client, url)
        assert rc == 7, "%s: the client got %s (curl exit %d), expected connection refused" % (url, status, rc)
        assert seconds < 1, "%s: refused only after %.1f s, not at once" % (url, seconds)
        assert curl(proxy, url) == (0, "200", app), "%s: the proxy does not get through" % url
        assert curl(name, "http://127.0.0.1:%d/" % port) == (0, "200", app), "%s: loopback is refused" % url


def split_through(source, url, count):
    """{X-Backend: count} of COUNT GETs from host SOURCE to URL with Host example.com; every one must answer 200."""
    assert 0 < count <= 300
    out = node(source).check_output(
        "for i in $(seq %d); do curl -s --max-time 5 -H 'Host: example.com' -o /dev/null "
        "-w '%%{http_code} %%header{x-backend}\\n' %s; done" % (count, url))
    answers = [line.split(" ", 1) for line in out.splitlines()]
    assert len(answers) == count
    assert {status for status, dummy in answers} == {"200"}, answers
    return dict(collections.Counter(backend for dummy, backend in answers))


def deploy(extra):
    """ansible-playbook balancer.nginx.deploy on the scenario's inventory, extra variables from a JSON file."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(extra, handle)
        handle.flush()
        run = subprocess.run(["ansible-playbook", "-i", INVENTORY, "balancer.nginx.deploy", "-e", "@" + handle.name],
                             check=False, capture_output=True, text=True, timeout=900,
                             env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_proxy_splits_across_the_backend_hosts(proxy):
    variables = RUNNER.get_variables(proxy)
    count = variables["lab_requests"]
    assert 0 < count <= 300
    out = node(proxy).check_output(
        "for i in $(seq %d); do curl -s --max-time 5 -H 'Host: example.com' -o /dev/null "
        "-w '%%{http_code} %%header{x-backend}\\n' http://127.0.0.1/; done" % count)
    answers = [line.split(" ", 1) for line in out.splitlines()]
    assert len(answers) == count
    assert {status for status, dummy in answers} == {"200"}
    assert dict(collections.Counter(backend for dummy, backend in answers)) == variables["lab_expected_split"]


def test_each_backend_port_accepts_only_the_proxy_and_loopback(proxy, client, backends):
    assert_scoped(proxy, client, backends)


def test_the_client_reaches_the_proxy(proxy, client):
    # over the lab network, by the proxy's name: the client is refused by the backends, not by the proxy
    variables = RUNNER.get_variables(proxy)
    assert split_through(client, "http://%s/" % proxy, variables["lab_requests"]) == variables["lab_expected_split"]


def test_an_open_session_and_other_traffic_live_through_a_new_load_of_the_table(proxy, client, backends):
    name = backends[0][0]
    address = node(proxy).check_output("hostname -I").split()[0]
    extra = "192.0.2.10"
    node(client).check_output("rm -f /tmp/lab-session.go /tmp/lab-session.log")
    node(client).check_output("echo %s | base64 -d > /tmp/lab-session.py" % base64.b64encode(SESSION.encode()).decode())
    node(client).check_output("systemd-run --unit lab-session --collect -p RuntimeMaxSec=300 python3 /tmp/lab-session.py %s"
                              % name)
    try:
        node(client).check_output("for i in $(seq 100); do grep -q '^echo before' /tmp/lab-session.log && exit 0; "
                                  "sleep 0.1; done; cat /tmp/lab-session.log; exit 1")
        # the role writes the table again (one more allowed source) and loads it with nft -f
        out = deploy({"load_balancer_firewall_allow": [address, extra]})
        assert "TASK [balancer.nginx.load_balancer : Load the table with nft -f (replaces only this table)]" in out
        node(client).check_output("touch /tmp/lab-session.go; for i in $(seq 100); do "
                                  "grep -q '^end' /tmp/lab-session.log && exit 0; sleep 0.1; done; exit 1")
        log = node(client).file("/tmp/lab-session.log").content_string.splitlines()
        assert log == ["greeting app1", "echo before", "ticks echoed all", "echo after", "closed", "end"], "the open session was cut: %s" % log
        for host, dummy, dummy in backends:
            assert extra in node(host).check_output("nft list set %s proxies_ipv4" % TABLE), host
            rules = [line.strip() for line in node(host).check_output("nft list chain %s input" % TABLE).splitlines()]
            assert "type filter hook input priority filter; policy accept;" in rules, rules
            assert [line for line in rules if "dport" in line or "saddr" in line or "drop" in line or "reject" in line] \
                == ["tcp dport @backend_ports jump backend_ports"], "%s: the table's input chain matches other traffic" % host
        assert_scoped(proxy, client, backends)
        assert split_through(client, "http://%s/" % proxy, 30) == {"app1": 10, "app2": 10, "app3": 10}
    finally:
        node(client).run("touch /tmp/lab-session.go; systemctl stop lab-session")
        deploy({})
    for host, dummy, dummy in backends:
        assert extra not in node(host).check_output("nft list set %s proxies_ipv4" % TABLE), host


def test_the_other_ports_of_a_backend_stay_open(client, backends):
    scoped = dict((name, port) for name, port, dummy in backends)
    for name in scoped:
        for other in sorted(set(scoped.values()) - {scoped[name]}):
            rc, status, dummy = curl(client, "http://%s:%d/" % (name, other))
            assert (rc, status) == (0, "200"), "%s:%d is not a backend port of this host, yet it is closed" % (name, other)


def test_other_tables_are_left_alone(backends):
    for name, dummy, dummy in backends:
        tables = node(name).check_output("nft list tables").splitlines()
        assert "table inet lab_user" in tables, name
        assert "table ip nat" in tables, "%s: Docker's table is gone" % name
        assert "table %s" % TABLE in tables, name
        assert "tcp dport 9 counter" in node(name).check_output("nft list table inet lab_user")


def test_the_table_is_in_its_own_file_included_and_nftables_never_restarted(backends):
    for name, port, dummy in backends:
        host = node(name)
        text = host.file(NFT_FILE).content_string
        assert "tcp dport @backend_ports jump backend_ports" in text
        assert "elements = { %d }" % port in text
        conf = host.file("/etc/nftables.conf").content_string
        assert conf.splitlines()[2] == "flush ruleset", "Debian's nftables.conf was changed elsewhere"
        assert conf.rstrip().splitlines()[-1] == 'include "%s"' % NFT_FILE
        assert conf.count(NFT_FILE) == 1
        assert host.check_output("systemctl is-enabled nftables") == "enabled"
        # enabled for the next boot, never started (a start would have flushed the ruleset)
        assert host.check_output("systemctl show -p ExecMainStartTimestampMonotonic --value nftables") == "0"
        assert host.run("nft -c -f %s" % NFT_FILE).rc == 0


def test_the_scope_survives_a_restart_of_nftables(proxy, client, backends):
    for name, dummy, dummy in backends:
        node(name).check_output("systemctl restart nftables")
        assert "table %s" % TABLE in node(name).check_output("nft list tables")
    assert_scoped(proxy, client, backends)


def test_the_scope_survives_a_reboot(proxy, client, backends):
    name = backends[0][0]
    subprocess.run(["docker", "restart", name], check=True, capture_output=True, timeout=120)
    state = ""
    for dummy in range(120):
        state = subprocess.run(["docker", "exec", name, "systemctl", "is-system-running"],
                               check=False, capture_output=True, text=True, timeout=30).stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(0.5)
    assert state in ("running", "degraded"), "%s did not boot: %s" % (name, state)
    assert "table %s" % TABLE in node(name).check_output("nft list tables")
    assert_scoped(proxy, client, backends[:1])

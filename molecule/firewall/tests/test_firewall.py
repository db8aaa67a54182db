"""Backend ports scoped to the proxy: a client that is not the proxy is refused, the proxy gets through.

balancer.nginx.deploy converged this scenario: the firewall entry point on the
backends (nftables), then main on the proxy. Requests go with curl from inside
the lab containers to each other, in bounded loops; the restart and reboot
tests come last because they change the containers.
"""

import collections
import os
import subprocess
import time

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = AnsibleRunner(INVENTORY)
TABLE = "inet balancer_nginx"
NFT_FILE = "/etc/nftables.d/balancer-nginx.nft"


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


def curl(source, url):
    """(curl exit code, HTTP status, X-Backend) of one GET from host ``source``; at most 3 s."""
    cmd = node(source).run("curl -s -o /dev/null -w '%%{http_code} %%header{x-backend}' --max-time 3 '%s'" % url)
    status, dummy, backend = cmd.stdout.partition(" ")
    return cmd.rc, status, backend.strip()


def assert_scoped(proxy, client, backends):
    for name, port, app in backends:
        url = "http://%s:%d/" % (name, port)
        started = time.monotonic()
        rc, status, dummy = curl(client, url)
        assert rc == 7, "%s: the client got %s (curl exit %d), expected connection refused" % (url, status, rc)
        assert time.monotonic() - started < 3, "%s: refused only after a time-out, not at once" % url
        assert curl(proxy, url) == (0, "200", app), "%s: the proxy does not get through" % url
        assert curl(name, "http://127.0.0.1:%d/" % port) == (0, "200", app), "%s: loopback is refused" % url


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

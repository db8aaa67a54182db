"""Real traffic through the proxy that balancer.nginx.deploy converged: config, split, headers, log, reload, failure.

Every request is sent with curl from inside the container to 127.0.0.1:80 with
the vhost's server_name as Host, in bounded loops. The group, the vhost and the
expected split come from the scenario's variables (load_balancer_upstreams,
load_balancer_vhosts, lab_requests, lab_expected_split).
"""

import json

import collections
import re
import uuid

import pytest


@pytest.fixture(scope="module")
def lab(host):
    variables = host.ansible.get_variables()
    variables["upstream"] = variables["load_balancer_upstreams"][0]
    variables["vhost"] = variables["load_balancer_vhosts"][0]
    return variables


def host_of(lab):
    names = lab["vhost"].get("server_name") or ["_"]
    return names if isinstance(names, str) else names[0]


@pytest.fixture(scope="module")
def backends(host):
    """{port: backend name} from the container's backend env files."""
    out = host.check_output("grep -H '^PORT=' /etc/balancer-backend/*.env")
    found = re.findall(r"/([^/\s]+)\.env:PORT=(\d+)", out)
    return {port: name for name, port in found}


def send(host, lab, count, tag):
    """Send count GET requests to the proxy; return [(status, X-Backend, body)]."""
    assert 0 < count <= 500
    script = (
        "for i in $(seq %d); do "
        "curl -s --max-time 5 -H 'Host: %s' -o /tmp/lab-body -w '%%{http_code} %%header{x-backend} ' "
        "'http://127.0.0.1/?req=%s-'$i; tr -d '\\n' < /tmp/lab-body; echo; "
        "done" % (count, host_of(lab), tag)
    )
    results = []
    for line in host.check_output(script).splitlines():
        status, backend, body = (line.split(" ", 2) + ["", ""])[:3]
        results.append((status, backend, body))
    assert len(results) == count
    return results


def split(results):
    return dict(collections.Counter(backend for dummy, backend, dummy in results))


def access_log(host, lab, tag, count):
    """{request id: last upstream address} for the tagged requests, waiting for the log."""
    # the role's default access log of a vhost that sets none, in format upstream_debug
    path = "/var/log/nginx/%s.upstream.log" % lab["vhost"]["name"]
    host.run_expect(
        [0], "for i in $(seq 50); do [ $(grep -c 'req=%s-' %s) -ge %d ] && exit 0; sleep 0.1; done; exit 1"
        % (tag, path, count))
    served = {}
    for line in host.check_output("grep 'req=%s-' %s" % (tag, path)).splitlines():
        match = re.search(r"\?req=(\S+) .* upstream=(.*?) upstream_status=", line)
        assert match, "not an upstream_debug line: %r" % line
        served[match.group(1)] = match.group(2).split(", ")[-1]
    return served


def reload_nginx(host):
    """Reload through systemd and wait until the old worker has gone."""
    old = host.check_output("pgrep -d ' ' -f 'nginx: worker'")
    host.run_expect([0], "systemctl reload nginx")
    host.run_expect([0], "for i in $(seq 100); do pgrep -f 'nginx: worker' | grep -qx -e %s || exit 0; sleep 0.1; done; "
                         "exit 1" % " -e ".join(old.split()))
    assert host.service("nginx").is_running


def set_mode(host, backends, name, mode):
    """Switch a backend test app's mode and wait until its port reflects it."""
    port = {v: k for k, v in backends.items()}[name]
    host.run_expect([0], "echo %s > /run/balancer-backend/%s.control" % (mode, name))
    listening = "ss -Hltn 'sport = :%s' | grep -q ." % port
    wanted = "! " + listening if mode == "refuse" else listening
    host.run_expect([0], "for i in $(seq 50); do %s && exit 0; sleep 0.1; done; exit 1" % wanted)


def test_nginx_config_is_valid(host):
    cmd = host.run("nginx -t")
    assert cmd.rc == 0, cmd.stderr
    assert "test is successful" in cmd.stderr


def test_upstream_file_lists_the_servers(host, lab):
    upstream = lab["upstream"]
    conf = host.file("/etc/nginx/conf.d/%s.conf" % upstream["name"])
    assert conf.exists
    text = conf.content_string
    assert re.search(r"^\s*upstream\s+%s\s*\{" % re.escape(upstream["name"]), text, re.M), text
    servers = re.findall(r"^\s*server\s+([^\s;]+)", text, re.M)
    assert servers == [server["address"] for server in upstream["servers"]], text


def test_vhost_file_proxies_to_the_group_and_logs_upstreams(host, lab):
    vhost = lab["vhost"]
    text = host.file("/etc/nginx/conf.d/%s.vhost.conf" % vhost["name"]).content_string
    names = vhost["server_name"] if isinstance(vhost["server_name"], list) else [vhost["server_name"]]
    assert re.search(r"^\s*server_name\s+%s;" % re.escape(" ".join(names)), text, re.M), text
    assert re.search(r"^\s*proxy_pass\s+http://%s;" % re.escape(lab["upstream"]["name"]), text, re.M), text
    assert re.search(r"^\s*access_log\s+/var/log/nginx/%s\.upstream\.log upstream_debug;" % re.escape(vhost["name"]),
                     text, re.M), text


def test_nginx_was_reloaded_exactly_once(host):
    """The converge reloaded once however many files it wrote; the idempotence run reloaded nothing."""
    reloads = host.check_output("journalctl -b -u nginx.service -o cat | grep -c '^Reloaded' || true")
    assert reloads.strip() == "1"


def test_the_backend_gets_the_four_proxy_headers(host, lab):
    headers = json.loads(host.check_output("curl -s --max-time 5 -H 'Host: %s' http://127.0.0.1/headers" % host_of(lab)))
    headers = dict((name.lower(), value) for name, value in headers.items())
    assert headers["host"] == host_of(lab)
    assert headers["x-real-ip"] == "127.0.0.1"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"


def test_requests_are_split_as_expected(host, lab):
    results = send(host, lab, lab["lab_requests"], uuid.uuid4().hex[:8])
    assert [status for status, dummy, dummy in results] == ["200"] * lab["lab_requests"]
    for dummy, backend, body in results:
        assert body == backend, "body %r but X-Backend %r" % (body, backend)
    assert split(results) == lab["lab_expected_split"]


def test_access_log_names_the_backend_of_each_request(host, lab, backends):
    tag = uuid.uuid4().hex[:8]
    results = send(host, lab, lab["lab_requests"], tag)
    served = access_log(host, lab, tag, lab["lab_requests"])
    for number, (dummy, backend, dummy) in enumerate(results, start=1):
        address = served["%s-%d" % (tag, number)]
        assert backends[address.rsplit(":", 1)[1]] == backend, "request %d: log %s, X-Backend %s" % (
            number, address, backend)


def test_reload_keeps_nginx_answering(host, lab):
    reload_nginx(host)
    results = send(host, lab, lab["lab_requests"], uuid.uuid4().hex[:8])
    assert {status for status, dummy, dummy in results} == {"200"}
    assert split(results) == lab["lab_expected_split"]


def test_a_refused_backend_is_noticed_and_heals(host, lab, backends):
    expected = lab["lab_expected_split"]
    victim = sorted(expected)[1]
    try:
        set_mode(host, backends, victim, "refuse")
        results = send(host, lab, lab["lab_requests"], uuid.uuid4().hex[:8])
        assert {status for status, dummy, dummy in results} == {"200"}
        assert set(split(results)) == set(expected) - {victim}
    finally:
        set_mode(host, backends, victim, "ok")
    # nginx keeps a failed server out for fail_timeout; a reload starts afresh.
    reload_nginx(host)
    results = send(host, lab, lab["lab_requests"], uuid.uuid4().hex[:8])
    assert split(results) == expected

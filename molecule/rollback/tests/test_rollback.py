"""A change Nginx rejects leaves the proxy as it was; balancer.nginx.rollback goes back to one backend.

The guide's setup (group app_backend over 127.0.0.1:8081..8083 behind
example.com) runs on one proxy per Debian release. Each test runs the
collection's playbooks as operators do (molecule/shared/lab_ops.py) and
checks every proxy from inside: sha256 and modification time of every file
under /etc/nginx, nginx -T, the systemd reloads and Nginx's PIDs, and real
requests through Nginx (curl to 127.0.0.1, bounded loops). Each test leaves
the guide's setup deployed again.
"""

import re

import pytest

from lab_ops import GUIDE_SPLIT, PROXIES, TWO_VHOSTS, WEIGHTED, etc_nginx, nginx_t, node, playbook, processes, recap, \
    reloads, split

# each change passes the model and the inspection; Nginx's own nginx -t refuses it
UNRESOLVABLE = dict(WEIGHTED, load_balancer_probe=False)
UNRESOLVABLE["load_balancer_upstreams"] = [{"name": "app_backend", "servers": [
    {"address": "127.0.0.1:8081", "weight": 3}, {"address": "app-missing.invalid:8082", "weight": 2}]}]
SSL_WITHOUT_CERTIFICATE = dict(WEIGHTED, load_balancer_vhosts=TWO_VHOSTS["load_balancer_vhosts"][:1] + [
    {"name": "secure", "server_name": "secure.example.com", "listen": ["8443 ssl"], "upstream": "app_backend"}])


def snapshot(mtimes=True):
    """Per proxy: every file under /etc/nginx, nginx -T, the reload count and Nginx's PIDs."""
    return dict((name, {"files": etc_nginx(name, mtimes), "nginx -T": nginx_t(name), "reloads": reloads(name),
                        "pids": processes(name)}) for name in PROXIES)


def fatal(output, name):
    """The text of the task failure Ansible printed for host NAME."""
    lines = [line for line in output.splitlines() if line.startswith("fatal: [%s]" % name)]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize("extra, message", [
    (UNRESOLVABLE, 'host not found in upstream \\"app-missing.invalid:8082\\" in /etc/nginx/conf.d/app_backend.conf:'),
    (SSL_WITHOUT_CERTIFICATE, 'no \\"ssl_certificate\\" is defined for the \\"listen ... ssl\\" directive in '
                              '/etc/nginx/conf.d/secure.vhost.conf:'),
], ids=["server-host-unresolvable", "ssl-without-certificate"])
def test_a_change_nginx_rejects_is_refused_and_the_previous_configuration_keeps_serving(baseline, extra, message):
    before = snapshot(mtimes=False)
    # every proxy at once (-e load_balancer_serial), so that each release's Nginx gets to refuse it
    rc, out = playbook("deploy", dict(extra, load_balancer_serial=len(PROXIES)))
    assert rc != 0, out
    for name in PROXIES:
        assert recap(out)[name]["failed"] == 1, out
        refusal = fatal(out, name)
        assert message in refusal, refusal
        assert "restored /etc/nginx/conf.d/app_backend.conf" in refusal, refusal
    # byte for byte, no file added or removed, the same nginx -T, no reload (the restore rewrites
    # app_backend.conf, so its modification time is not compared)
    assert snapshot(mtimes=False) == before
    for name in PROXIES:
        assert split(name, 30) == GUIDE_SPLIT


def test_rollback_sends_the_vhost_to_one_backend_and_a_second_run_changes_nothing(baseline):
    before = snapshot()
    rc, out = playbook("rollback")
    assert rc == 0, out
    assert out.count("group app_backend: removed, nothing refers to it any more") == len(PROXIES), out
    for name in PROXIES:
        assert recap(out)[name]["changed"] == 2, out  # the site transaction and the one reload
        assert reloads(name) == before[name]["reloads"] + 1
        assert not node(name).file("/etc/nginx/conf.d/app_backend.conf").exists
        assert re.findall(r"^\s*proxy_pass\s+(\S+);", node(name).file("/etc/nginx/conf.d/example.com.vhost.conf")
                          .content_string, re.M) == ["http://127.0.0.1:8081"]
        config = nginx_t(name)
        assert "server 127.0.0.1:8082" not in config
        assert "app_backend" not in config.lower(), "nginx -T still names the old group"
        assert split(name, 30) == {"app1": 30}
    after = snapshot()
    rc, out = playbook("rollback")
    assert rc == 0, out
    for name in PROXIES:
        assert recap(out)[name]["changed"] == 0, out
        assert recap(out)[name]["failed"] == 0, out
    assert snapshot() == after, "the second rollback changed a file, a modification time or reloaded"
    for name in PROXIES:
        assert split(name, 30) == {"app1": 30}


def test_rollback_keeps_a_group_another_vhost_uses_and_is_idempotent(baseline):
    rc, out = playbook("deploy", TWO_VHOSTS)
    assert rc == 0, out
    one = dict(TWO_VHOSTS, load_balancer_rollback_vhost="example.com")
    for attempt in (1, 2):
        before = snapshot()
        rc, out = playbook("rollback", one)
        assert rc == 0, out
        assert "group app_backend: kept, another vhost of load_balancer_vhosts proxies to it" in out
        for name in PROXIES:
            assert recap(out)[name]["changed"] == (2 if attempt == 1 else 0), out
            config = nginx_t(name)
            assert "proxy_pass http://127.0.0.1:8081;" in config
            assert re.search(r"^\s*upstream app_backend \{", config, re.M), "the group api uses was removed"
            assert split(name, 30) == {"app1": 30}
            assert split(name, 30, host_header="api.example.com", port=8080) == GUIDE_SPLIT
        if attempt == 2:
            assert snapshot() == before


def test_rollback_in_check_mode_writes_nothing():
    before = snapshot()
    rc, out = playbook("rollback", None, "--check")
    assert rc == 0, out
    assert "group app_backend: removed, nothing refers to it any more" in out
    for name in PROXIES:
        assert recap(out)[name]["changed"] >= 1, out
    assert snapshot() == before
    for name in PROXIES:
        assert split(name, 30) == GUIDE_SPLIT

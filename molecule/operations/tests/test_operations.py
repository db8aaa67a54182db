"""The playbooks as operators run them: ansible-playbook balancer.nginx.deploy/.verify/.rollback -i inventory.

Each test runs the collection's playbooks against the scenario's two proxies
(the inventory Molecule wrote, with the guide's variables), changing only
extra variables, and checks the proxies from inside: the files under
/etc/nginx/conf.d byte for byte with their modification times, how often
systemd reloaded Nginx, nginx -T, and real requests (curl to 127.0.0.1 in
bounded loops). Every test leaves the guide's setup deployed again.
"""

import collections
import json
import os
import re
import subprocess
import tempfile

import pytest
import testinfra
from testinfra.utils.ansible_runner import AnsibleRunner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = AnsibleRunner(INVENTORY)
PROXIES = RUNNER.get_hosts("proxies")
CONF_DIR = "/etc/nginx/conf.d"

WEIGHTED = {"load_balancer_upstreams": [{"name": "app_backend", "servers": [
    {"address": "127.0.0.1:8081", "weight": 3}, {"address": "127.0.0.1:8082", "weight": 2},
    {"address": "127.0.0.1:8083", "weight": 1}]}]}
TWO_VHOSTS = {"load_balancer_vhosts": [
    {"name": "example.com", "server_name": "example.com", "upstream": "app_backend"},
    {"name": "api", "server_name": "api.example.com", "listen": ["8080"], "upstream": "app_backend"}]}


def node(name):
    return testinfra.get_host("ansible://%s" % name, ansible_inventory=INVENTORY)


def playbook(name, extra=None, *args):
    """Run ansible-playbook balancer.nginx.NAME; return (exit code, output)."""
    cmd = ["ansible-playbook", "-i", INVENTORY, "balancer.nginx.%s" % name] + list(args)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        if extra is not None:
            json.dump(extra, handle)
            handle.flush()
            cmd += ["-e", "@" + handle.name]
        run = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900,
                             env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    return run.returncode, run.stdout + run.stderr


def recap(output):
    """{host: {ok, changed, failed, ...}} from the PLAY RECAP."""
    result = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if match:
            result[match.group(1)] = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2)))
    return result


def files(name, mtimes=True):
    """{file: 'sha256 [mtime]'} of every file in conf.d on proxy NAME that Nginx may read.

    The engine's backup copies (NAME.PID.TIME~, which no include matches) are
    left out: where they go is the engine's business.
    """
    stamp = ' $(stat -c %Y.%y \"$f\")' if mtimes else ''
    out = node(name).check_output("cd %s && for f in *; do case $f in *~) continue;; esac; "
                                  "echo \"$f $(sha256sum < \"$f\" | cut -c1-64)%s\"; done" % (CONF_DIR, stamp))
    return dict(line.split(" ", 1) for line in out.splitlines())


def reloads(name):
    return int(node(name).check_output("journalctl -b -u nginx.service -o cat | grep -c '^Reloaded' || true"))


def state(mtimes=True):
    return dict((name, (files(name, mtimes), reloads(name))) for name in PROXIES)


def split(name, count, host_header="example.com", port=80, path="/"):
    assert 0 < count <= 300
    out = node(name).check_output(
        "for i in $(seq %d); do curl -s --max-time 5 -H 'Host: %s' -o /dev/null "
        "-w '%%{http_code} %%header{x-backend}\\n' http://127.0.0.1:%d%s; done" % (count, host_header, port, path))
    answers = [line.split(" ", 1) for line in out.splitlines()]
    assert len(answers) == count
    assert {status for status, dummy in answers} == {"200"}, answers
    return dict(collections.Counter(backend for dummy, backend in answers))


def set_mode(name, app, mode):
    port = {"app1": 8081, "app2": 8082, "app3": 8083}[app]
    listening = "ss -Hltn 'sport = :%d' | grep -q ." % port
    wanted = "! " + listening if mode == "refuse" else listening
    node(name).check_output("echo %s > /run/balancer-backend/%s.control; "
                            "for i in $(seq 50); do %s && exit 0; sleep 0.1; done; exit 1" % (mode, app, wanted))


@pytest.fixture
def baseline():
    """After the test: every backend healthy and the guide's setup (only) deployed."""
    yield
    for name in PROXIES:
        for app in ("app1", "app2", "app3"):
            set_mode(name, app, "ok")
    rc, out = playbook("deploy", {"load_balancer_exclusive": True})
    assert rc == 0, out
    for name in PROXIES:
        assert split(name, 30) == {"app1": 10, "app2": 10, "app3": 10}


def test_the_guide_setup_splits_evenly_on_both_proxies():
    for name in PROXIES:
        assert split(name, 30) == {"app1": 10, "app2": 10, "app3": 10}


def test_a_second_deploy_changes_and_reloads_nothing():
    before = state()
    rc, out = playbook("deploy")
    assert rc == 0, out
    for name in PROXIES:
        assert recap(out)[name]["changed"] == 0, out
        assert recap(out)[name]["failed"] == 0, out
    assert state() == before


def test_many_changed_files_reload_once_and_weights_split_30_20_10(baseline):
    extra = dict(WEIGHTED, **TWO_VHOSTS)
    extra["load_balancer_log_formats"] = [{"name": "upstream_debug"}, {"name": "lab_short", "format": "$remote_addr"}]
    before = state()
    rc, out = playbook("deploy", extra)
    assert rc == 0, out
    for name in PROXIES:
        after_files, after_reloads = files(name), reloads(name)
        changed = [path for path in after_files if before[name][0].get(path) != after_files[path]]
        assert sorted(changed) == ["00-log-format-lab_short.conf", "api.vhost.conf", "app_backend.conf"]
        assert after_reloads == before[name][1] + 1
        assert split(name, 60) == {"app1": 30, "app2": 20, "app3": 10}
        assert split(name, 60, host_header="api.example.com", port=8080) == {"app1": 30, "app2": 20, "app3": 10}
    # the role's own check printed one table per vhost
    assert out.count("127.0.0.1:8081        30   50.0%  30 (50.0%)") == 2 * len(PROXIES), out


@pytest.mark.parametrize("extra, message", [
    (dict(WEIGHTED, load_balancer_upstream=[]),
     "load_balancer_upstream is declared by no entry point of balancer.nginx.load_balancer; "
     "did you mean load_balancer_upstreams?"),
    (dict(TWO_VHOSTS, load_balancer_upstreams="app_backend"),
     "Elements value for option 'load_balancer_upstreams' is of type "),
    (dict(WEIGHTED, load_balancer_verfy=False), "did you mean load_balancer_verify?"),
], ids=["misspelled", "mistyped", "misspelled-boolean"])
def test_a_misspelled_or_mistyped_variable_fails_before_any_change(extra, message):
    before = state()
    rc, out = playbook("deploy", extra)
    assert rc != 0
    assert message in out
    assert "PLAY [Let only the proxies reach the backend ports]" not in out, "the guard play did not stop the run"
    assert state() == before


def test_a_refused_backend_fails_the_preflight_with_nothing_written(baseline):
    for name in PROXIES:
        set_mode(name, "app2", "refuse")
    before = state()
    rc, out = playbook("deploy", dict(WEIGHTED, load_balancer_probe_min_healthy=3))
    assert rc != 0
    assert "min_healthy: 3 not met: 2 of 3 backends healthy; unhealthy: 127.0.0.1:8082 (connection refused)" in out
    assert "Write the log formats, upstream groups and vhosts as one transaction" not in out, out
    assert state() == before


def test_a_change_nginx_rejects_leaves_every_file_and_the_old_split(baseline):
    extra = dict(WEIGHTED)
    extra["load_balancer_vhosts"] = TWO_VHOSTS["load_balancer_vhosts"][:1] + [
        {"name": "secure", "server_name": "secure.example.com", "listen": ["8443 ssl"], "upstream": "app_backend"}]
    before = state(mtimes=False)
    rc, out = playbook("deploy", extra)
    assert rc != 0
    assert 'no \\"ssl_certificate\\" is defined for the \\"listen ... ssl\\" directive' in out, out
    assert "restored /etc/nginx/conf.d/app_backend.conf" in out
    # byte for byte, no file added, no reload (the restore itself rewrites app_backend.conf)
    assert state(mtimes=False) == before
    assert split(PROXIES[0], 30) == {"app1": 10, "app2": 10, "app3": 10}


def test_check_mode_reports_the_change_and_writes_nothing():
    before = state()
    rc, out = playbook("deploy", WEIGHTED, "--check", "--diff")
    assert rc == 0, out
    for name in PROXIES:
        assert recap(out)[name]["changed"] >= 1, out
    assert "+    server 127.0.0.1:8081 weight=3;" in out
    assert state() == before
    for name in PROXIES:
        assert split(name, 30) == {"app1": 10, "app2": 10, "app3": 10}


def test_a_stream_proxy_naming_an_undefined_group_is_refused_with_nothing_written():
    before = state()
    rc, out = playbook("deploy", dict(WEIGHTED, load_balancer_stream_proxies=[{"name": "db", "listen": "5432",
                                                                               "upstream": "db"}]))
    assert rc != 0
    assert "is not defined as an upstream in the proxy's configuration" in out, out
    assert "balancer.nginx.upstream with context: stream" in out, out
    assert state() == before
    for name in PROXIES:
        assert split(name, 30) == {"app1": 10, "app2": 10, "app3": 10}


def test_rollback_in_check_mode_writes_nothing():
    before = state()
    rc, out = playbook("rollback", None, "--check")
    assert rc == 0, out
    assert "group app_backend: removed, nothing refers to it any more" in out
    for name in PROXIES:
        assert recap(out)[name]["changed"] >= 1, out
    assert state() == before
    for name in PROXIES:
        assert split(name, 30) == {"app1": 10, "app2": 10, "app3": 10}


def test_verify_passes_when_healthy_and_prints_the_split():
    before = state()
    rc, out = playbook("verify")
    assert rc == 0, out
    assert out.count("127.0.0.1:8082        20   33.3%  20 (33.3%)") == len(PROXIES), out
    assert state() == before


def test_verify_fails_naming_a_backend_that_answers_503(baseline):
    set_mode(PROXIES[0], "app2", "503")
    rc, out = playbook("verify")
    assert rc != 0
    assert "unhealthy: 127.0.0.1:8082 (status 503, expected 200)" in out, out
    assert recap(out)[PROXIES[0]]["failed"] == 1
    assert recap(out)[PROXIES[1]]["failed"] == 0


def nginx_t(name):
    return node(name).check_output("nginx -T 2>/dev/null")


def test_rollback_keeps_a_group_another_vhost_uses_and_is_idempotent(baseline):
    rc, out = playbook("deploy", TWO_VHOSTS)
    assert rc == 0, out
    one = dict(TWO_VHOSTS, load_balancer_rollback_vhost="example.com")
    for attempt in (1, 2):
        before = state()
        rc, out = playbook("rollback", one)
        assert rc == 0, out
        assert "group app_backend: kept, another vhost of load_balancer_vhosts proxies to it" in out
        for name in PROXIES:
            assert recap(out)[name]["changed"] == (2 if attempt == 1 else 0), out
            config = nginx_t(name)
            assert "proxy_pass http://127.0.0.1:8081;" in config
            assert re.search(r"^\s*upstream app_backend \{", config, re.M), "the group api uses was removed"
            assert split(name, 30) == {"app1": 30}
            assert split(name, 30, host_header="api.example.com", port=8080) == {"app1": 10, "app2": 10, "app3": 10}
        if attempt == 2:
            assert state() == before
    for attempt in (1, 2):
        before = state()
        rc, out = playbook("rollback", TWO_VHOSTS)
        assert rc == 0, out
        for name in PROXIES:
            assert recap(out)[name]["changed"] == (2 if attempt == 1 else 0), out
            assert "app_backend" not in nginx_t(name)
            assert split(name, 30) == {"app1": 30}
            assert split(name, 30, host_header="api.example.com", port=8080) == {"app1": 30}
        if attempt == 2:
            assert state() == before


def test_a_failure_on_the_first_proxy_leaves_the_second_serving_the_old_configuration(baseline):
    first, second = PROXIES
    set_mode(first, "app2", "refuse")
    before = state()
    rc, out = playbook("deploy", dict(WEIGHTED, load_balancer_probe_min_healthy=3))
    assert rc != 0
    assert recap(out)[first]["failed"] == 1
    assert "included: balancer.nginx.load_balancer for %s" % second not in out.split(
        "PLAY [Deploy the load balancer", 1)[-1], "the second proxy was reached"
    assert state() == before
    assert split(second, 30) == {"app1": 10, "app2": 10, "app3": 10}

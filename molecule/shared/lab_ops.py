"""Helpers the operations, rollback and fleet verifiers share (molecule/shared).

They drive the collection's playbooks as operators run them
(ansible-playbook balancer.nginx.NAME -i <the inventory Molecule wrote>, with
extra variables in a JSON file) and look at the proxies from inside: files
byte for byte with their modification times, how often systemd reloaded
Nginx, the Nginx processes, nginx -T, and real requests (curl to 127.0.0.1
in bounded loops). Each scenario's tests/conftest.py puts this directory on
sys.path.
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
GUIDE_SPLIT = {"app1": 10, "app2": 10, "app3": 10}

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


def etc_nginx(name, mtimes=True):
    """{path: 'sha256 [mtime]'} of every file and link under /etc/nginx on proxy NAME (links by their target's bytes)."""
    stamp = ' $(stat -L -c %Y.%y "$f")' if mtimes else ''
    out = node(name).check_output(
        "find /etc/nginx \\( -type f -o -type l \\) | LC_ALL=C sort | while read -r f; do "
        "echo \"$f $(sha256sum < \"$f\" | cut -c1-64)%s\"; done" % stamp)
    found = dict(line.split(" ", 1) for line in out.splitlines())
    assert "/etc/nginx/nginx.conf" in found, out
    return found


def reloads(name):
    return int(node(name).check_output("journalctl -b -u nginx.service -o cat | grep -c '^Reloaded' || true"))


def processes(name):
    """The PIDs of Nginx's master and workers: a reload replaces the workers."""
    return node(name).check_output("pgrep -d ' ' -x nginx || true").split()


def state(mtimes=True):
    return dict((name, (files(name, mtimes), reloads(name))) for name in PROXIES)


def split(name, count, host_header="example.com", port=80, path="/"):
    """{X-Backend: count} of COUNT GETs through proxy NAME; every one must answer 200.

    Each request may take 15 s (the machine may be busy with other scenarios);
    a failure shows curl's exit code next to the status (28: timed out, 7: refused).
    """
    assert 0 < count <= 300
    out = node(name).check_output(
        "for i in $(seq %d); do curl -s --max-time 15 -H 'Host: %s' -o /dev/null "
        "-w '%%{http_code} %%{exitcode} %%header{x-backend}\\n' http://127.0.0.1:%d%s; done"
        % (count, host_header, port, path))
    answers = [line.split(" ", 2) for line in out.splitlines()]
    assert len(answers) == count
    assert {status for status, dummy, dummy in answers} == {"200"}, answers
    return dict(collections.Counter(backend for dummy, dummy, backend in answers))


def set_mode(name, app, mode):
    port = {"app1": 8081, "app2": 8082, "app3": 8083}[app]
    listening = "ss -Hltn 'sport = :%d' | grep -q ." % port
    wanted = "! " + listening if mode == "refuse" else listening
    node(name).check_output("echo %s > /run/balancer-backend/%s.control; "
                            "for i in $(seq 50); do %s && exit 0; sleep 0.1; done; exit 1" % (mode, app, wanted))


def nginx_t(name):
    return node(name).check_output("nginx -T 2>/dev/null")


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
        assert split(name, 30) == GUIDE_SPLIT

"""A rollout with balancer.nginx.deploy over three proxies, one at a time: a refusal on the first stops it.

Each test runs the collection's deploy playbook as operators do
(molecule/shared/lab_ops.py; its default load_balancer_serial 1) and checks
every proxy from inside: sha256 and modification time of every file under
/etc/nginx, the systemd reloads and Nginx's PIDs, and real requests through
Nginx (curl to 127.0.0.1, bounded loops). Each test leaves the guide's setup
deployed again on every proxy.
"""

import re

import pytest

from lab_ops import GUIDE_SPLIT, PROXIES, WEIGHTED, etc_nginx, node, playbook, processes, recap, reloads, split

HANDWRITTEN = "/etc/nginx/conf.d/lab-handwritten.conf"
CANARY_HOST = "canary.lab.test"
ROLLOUT_PLAY = "PLAY [Deploy the load balancer on the proxies, one batch at a time, no failure tolerated]"

# the new change: weights 3:2:1 and a second group app_canary behind a second vhost on port 8080
CANARY = dict(WEIGHTED, load_balancer_vhosts=[
    {"name": "example.com", "server_name": "example.com", "upstream": "app_backend"},
    {"name": "canary", "server_name": "canary.example.com", "listen": ["8080"], "upstream": "app_canary"}])
CANARY["load_balancer_upstreams"] = WEIGHTED["load_balancer_upstreams"] + [
    {"name": "app_canary", "servers": [{"address": "127.0.0.1:8083"}]}]
# the same change with app_canary's server named by a host name: Nginx resolves it when it reads the file
CANARY_BY_NAME = dict(CANARY, load_balancer_upstreams=WEIGHTED["load_balancer_upstreams"] + [
    {"name": "app_canary", "servers": [{"address": "%s:8083" % CANARY_HOST}]}])


def workers(name):
    return node(name).check_output("pgrep -d ' ' -f '^nginx: worker' || true").split()


def snapshot(mtimes=True):
    """Per proxy: every file under /etc/nginx, the reload count and Nginx's PIDs."""
    return dict((name, {"files": etc_nginx(name, mtimes), "reloads": reloads(name), "pids": processes(name),
                        "workers": workers(name)}) for name in PROXIES)


def rollout(output):
    """[[hosts of the batch]] in the order the deploy playbook's last play ran its batches."""
    batches = []
    for part in output.split(ROLLOUT_PLAY)[1:]:
        found = re.findall(r"^included: balancer\.nginx\.load_balancer for (.+)$", part.split("PLAY RECAP")[0], re.M)
        batches.append([host for line in found for host in line.split(", ")])
    return batches


def first_proxy_differs(case):
    """Make only the first proxy refuse the change; return how to undo it."""
    first, others = PROXIES[0], PROXIES[1:]
    if case == "inspection":
        # a hand-written file (no managed header) that already defines the new group's name
        node(first).check_output("printf 'upstream app_canary {\\n    server 127.0.0.1:8081;\\n}\\n' > %s" % HANDWRITTEN)
        return [(first, "rm -f %s" % HANDWRITTEN)]
    # the other proxies resolve the canary's host name (as their DNS would), the first does not
    undo = []
    for name in others:
        node(name).check_output("echo '127.0.0.1 %s' >> /etc/hosts" % CANARY_HOST)
        # Docker bind-mounts /etc/hosts: rewrite it in place (sed -i would rename over it)
        undo.append((name, "grep -vx '127.0.0.1 %s' /etc/hosts > /tmp/lab-hosts; cat /tmp/lab-hosts > /etc/hosts" % CANARY_HOST))
    assert node(first).run("getent hosts %s" % CANARY_HOST).rc != 0
    return undo


@pytest.fixture
def differing():
    undo = []
    yield undo
    for name, command in undo:
        node(name).check_output(command)


@pytest.mark.parametrize("case, extra, message", [
    ("inspection", CANARY, "is already defined as an upstream in %s:1" % HANDWRITTEN),
    ("nginx -t", dict(CANARY_BY_NAME, load_balancer_probe=False),
     'host not found in upstream \\"%s:8083\\" in /etc/nginx/conf.d/app_canary.conf:' % CANARY_HOST),
], ids=["inspection", "nginx-t"])
def test_a_change_the_first_proxy_refuses_stops_the_rollout_there(baseline, differing, case, extra, message):
    first, others = PROXIES[0], PROXIES[1:]
    differing.extend(first_proxy_differs(case))
    before, before_bytes = snapshot(), snapshot(mtimes=False)
    rc, out = playbook("deploy", extra)
    assert rc != 0, out
    assert recap(out)[first]["failed"] == 1, out
    assert message in out, out
    assert rollout(out) == [[first]], "the rollout went on past the first proxy: %s" % rollout(out)
    after = snapshot()
    for name in others:
        assert recap(out)[name]["failed"] == 0 and recap(out)[name]["changed"] == 0, out
        # never reached: every file under /etc/nginx with its modification time, no reload, the same processes
        assert after[name] == before[name], name
        assert split(name, 30) == GUIDE_SPLIT
    # the first proxy refused it and kept its configuration byte for byte, unreloaded (a restore after
    # nginx -t rewrites the bytes a file had, so modification times are not compared there)
    assert snapshot(mtimes=False)[first] == before_bytes[first]
    assert split(first, 30) == GUIDE_SPLIT


def test_a_change_every_proxy_accepts_reaches_all_three_one_after_the_other(baseline):
    before = snapshot()
    rc, out = playbook("deploy", CANARY)
    assert rc == 0, out
    assert rollout(out) == [[name] for name in PROXIES], rollout(out)
    finished = []
    for name in PROXIES:
        assert recap(out)[name]["failed"] == 0, out
        assert reloads(name) == before[name]["reloads"] + 1
        assert not set(workers(name)) & set(before[name]["workers"]), "%s: the same workers after a reload" % name
        assert split(name, 60) == {"app1": 30, "app2": 20, "app3": 10}
        assert split(name, 10, host_header="canary.example.com", port=8080) == {"app3": 10}
        # this proxy's new group file was written after the previous proxy had reloaded
        written = float(node(name).check_output("stat -c %.9Y /etc/nginx/conf.d/app_canary.conf"))
        assert not finished or written > finished[-1], "%s was written before the previous proxy finished" % name
        finished.append(float(node(name).check_output(
            "journalctl -b -u nginx.service -o short-unix | grep ' Reloaded' | tail -n 1 | cut -d' ' -f1")))

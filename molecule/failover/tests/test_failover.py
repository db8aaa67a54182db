"""Passive health checks and retries of app_backend, proven from the upstream_debug access log.

The scenario's location passes a request on to the next server on error,
timeout, 502, 503 and 504 (proxy_next_upstream), and every server has
max_fails=2 fail_timeout=3s. For each failure mode of app2 (refuse, hang, 502,
503) the verifier sends GETs from inside the container (files/burst.py, one
new connection per request, each tagged ?req=TAG-i) and reads each request's
attempts from the vhost's access log ($upstream_addr, $upstream_status):

- every GET gets 200 from another backend;
- app2 is tried exactly max_fails times, then skipped while the rest of the
  burst runs (round robin would try it on every third request);
- after fail_timeout, still broken, it is tried exactly once more (and is
  skipped again); healed and after fail_timeout, it answers again;
- a POST that reached app2 is not passed on: the client gets the 502, 503 or
  504 and the log shows one attempt; a refused connection sent nothing, so
  that POST is passed on.

The one Nginx worker of the lab (worker_processes 1) holds the failure
counts, so they are exact. Each test starts from a reload, which forgets
them. Times come from burst.py, on the container's clock (the host's).
"""

import json
import os
import re
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
LOG = "/var/log/nginx/failover.log"
VICTIM, VICTIM_ADDR = "app2", "127.0.0.1:8082"
PORTS = {"app1": 8081, "app2": 8082, "app3": 8083}
MAX_FAILS, FAIL_TIMEOUT = 2, 3.0
MARGIN = 0.2  # seconds kept clear of the end of fail_timeout
# what app2's attempt shows in $upstream_status, per mode (a refused connect is a 502, a read timeout a 504)
FAILED_STATUS = {"refuse": "502", "hang": "504", "502": "502", "503": "503"}


@pytest.fixture(scope="module")
def lab(host):
    variables = host.ansible.get_variables()
    servers = variables["load_balancer_upstreams"][0]["servers"]
    location = variables["load_balancer_vhosts"][0]["locations"][0]
    # the numbers the assertions rely on are the scenario's own
    assert {(s["max_fails"], s["fail_timeout"]) for s in servers} == {(MAX_FAILS, "%ds" % FAIL_TIMEOUT)}
    assert location["next_upstream"] == ["error", "timeout", "http_502", "http_503", "http_504"]
    host.ansible("copy", "src=%s dest=/usr/local/bin/burst.py mode=0755" % os.path.join(HERE, "..", "files", "burst.py"),
                 check=False)
    return variables


def set_modes(host, **modes):
    """Switch backend test apps' modes (app=mode) and wait until their ports reflect them, in one call."""
    script = []
    for app, mode in sorted(modes.items()):
        listening = "ss -Hltn 'sport = :%d' | grep -q ." % PORTS[app]
        wanted = "! " + listening if mode == "refuse" else listening
        script.append("echo %s > /run/balancer-backend/%s.control && for i in $(seq 50); do %s && break; sleep 0.1; done && %s"
                      % (mode, app, wanted, wanted))
    host.run_expect([0], " && ".join(script))


def reload_nginx(host):
    """Reload through systemd and wait until the old worker has gone: fresh failure counts.

    The pattern is worke[r] so that it does not match this shell's own command line.
    """
    host.run_expect([0], "old=$(pgrep -f 'nginx: worke[r]') && systemctl reload nginx && "
                         "for i in $(seq 100); do pgrep -f 'nginx: worke[r]' | grep -qxF \"$old\" || exit 0; sleep 0.1; done; "
                         "exit 1")


@pytest.fixture
def fresh(host, lab):
    """Every backend healthy and a reloaded Nginx before the test, every backend healthy after it."""
    set_modes(host, app1="ok", app2="ok", app3="ok")
    reload_nginx(host)
    yield
    set_modes(host, app1="ok", app2="ok", app3="ok")


def burst(host, count, method="GET"):
    """Send count requests; return them with the attempts the access log shows for each.

    Each item: req, start, end, status, backend (from burst.py) and attempts,
    a list of (address, status) in the order Nginx tried them.
    """
    tag = uuid.uuid4().hex[:8]
    out = host.check_output(
        "python3 /usr/local/bin/burst.py --count %d --tag %s --method %s > /run/burst.json && "
        "for i in $(seq 50); do [ $(grep -c 'req=%s-' %s) -ge %d ] && break; sleep 0.1; done && "
        "cat /run/burst.json && grep 'req=%s-' %s" % (count, tag, method, tag, LOG, count, tag, LOG))
    lines = out.splitlines()
    results = json.loads(lines[0])
    assert len(results) == count
    logged = {}
    for line in lines[1:]:
        match = re.search(r"\?req=(\S+) .* upstream=(.*?) upstream_status=(.*?) upstream_response_time=", line)
        assert match, "not an upstream_debug line: %r" % line
        addresses, statuses = match.group(2).split(", "), match.group(3).split(", ")
        assert len(addresses) == len(statuses), line
        logged[match.group(1)] = list(zip(addresses, statuses))
    assert len(logged) == count
    for result in results:
        result["attempts"] = logged[result["req"]]
    return results


def tried_victim(results):
    return [r for r in results if VICTIM_ADDR in [address for address, dummy in r["attempts"]]]


def describe(results):
    return "\n".join("%s %.2f-%.2f %s %s %s" % (r["req"], r["start"], r["end"], r["status"], r["backend"], r["attempts"])
                     for r in results)


def skip_window(results, failed_at):
    """The requests sent after a failure that disabled app2, and answered while its fail_timeout ran.

    There must be at least four of them: round robin picks each of the three
    backends once in every three requests, so four requests would have
    picked app2 had it not been skipped.
    """
    window = [r for r in results if r["start"] >= failed_at and r["end"] < failed_at + FAIL_TIMEOUT - MARGIN]
    assert len(window) >= 4, "too few requests within fail_timeout to show the skip:\n" + describe(results)
    assert not tried_victim(window), describe(results)
    return window


def sleep_until(moment):
    time.sleep(max(0.0, moment - time.time()))


@pytest.mark.parametrize("mode", ["refuse", "hang", "502", "503"])
def test_a_failing_backend_is_skipped_after_max_fails_and_tried_again_after_fail_timeout(host, fresh, mode):
    set_modes(host, **{VICTIM: mode})
    failed = (VICTIM_ADDR, FAILED_STATUS[mode])

    # 1. broken: every GET gets 200 from another backend; app2 is tried max_fails times, then skipped
    first = burst(host, 12)
    report = describe(first)
    assert [r["status"] for r in first] == [200] * 12, report
    assert VICTIM not in [r["backend"] for r in first], report
    healthy = [status for r in first for address, status in r["attempts"] if address != VICTIM_ADDR]
    assert set(healthy) == {"200"}, report
    tries = tried_victim(first)
    assert len(tries) >= MAX_FAILS, report
    for request in tries:
        # the failed attempt on app2 first, then one more backend that answered
        assert request["attempts"][0] == failed and len(request["attempts"]) == 2, report
    disabled_at = tries[MAX_FAILS - 1]["end"]
    skipped = skip_window(first, disabled_at)
    assert tries[MAX_FAILS:] == [r for r in tries if r["start"] > disabled_at + FAIL_TIMEOUT - MARGIN], report

    # 2. still broken after fail_timeout: tried once more, which fails again (the GET still gets 200), then skipped
    sleep_until(tries[-1]["end"] + FAIL_TIMEOUT + 1)
    second = burst(host, 12)
    report = describe(second)
    assert [r["status"] for r in second] == [200] * 12, report
    retries = tried_victim(second)
    assert len(retries) >= 1, report
    for request in retries:
        assert request["attempts"][0] == failed and len(request["attempts"]) == 2, report
    skip_window(second, retries[0]["end"])
    assert retries[1:] == [r for r in retries if r["start"] > retries[0]["end"] + FAIL_TIMEOUT - MARGIN], report

    # 3. healed, after fail_timeout: app2 answers its share again, no attempt fails
    set_modes(host, **{VICTIM: "ok"})
    sleep_until(retries[-1]["end"] + FAIL_TIMEOUT + 1)
    third = burst(host, 12)
    report = describe(third)
    assert [r["status"] for r in third] == [200] * 12, report
    assert [len(r["attempts"]) for r in third] == [1] * 12, report
    assert len([r for r in third if r["backend"] == VICTIM]) >= 3, report
    print("\nfailover %s on %s: %d GETs, %d answered 200; app2 tried %d times then skipped (%d requests after the "
          "second failure, within %.1f s), %d time(s) after fail_timeout, then answered %d of 12 once healed" % (
              mode, host.backend.host, len(first + second + third), sum(r["status"] == 200 for r in first + second + third), MAX_FAILS,
              len(skipped), skipped[-1]["end"] - disabled_at, len(retries),
              len([r for r in third if r["backend"] == VICTIM])))


@pytest.mark.parametrize("mode", ["502", "503", "hang"])
def test_a_post_that_reached_a_failing_backend_is_not_passed_on(host, fresh, mode):
    """proxy_next_upstream without non_idempotent: a POST that was sent is never passed to the next server."""
    set_modes(host, **{VICTIM: mode})
    posts = burst(host, 3, method="POST")
    report = describe(posts)
    # equal weights, fresh counts: the three POSTs go to the three backends, one each
    tries = tried_victim(posts)
    assert len(tries) == 1, report
    assert tries[0]["attempts"] == [(VICTIM_ADDR, FAILED_STATUS[mode])], report
    assert tries[0]["status"] == int(FAILED_STATUS[mode]), report
    others = [r for r in posts if r is not tries[0]]
    assert [r["status"] for r in others] == [200, 200], report
    assert [len(r["attempts"]) for r in others] == [1, 1], report
    print("\nPOST to app2 answering %s on %s: client got %d, log %s" % (
        mode, host.backend.host, tries[0]["status"], tries[0]["attempts"]))


def test_a_post_to_a_refusing_backend_is_passed_on_because_nothing_was_sent(host, fresh):
    """The limit is on requests already sent: a refused connection carried nothing, so the POST moves on."""
    set_modes(host, **{VICTIM: "refuse"})
    posts = burst(host, 3, method="POST")
    report = describe(posts)
    assert [r["status"] for r in posts] == [200] * 3, report
    tries = tried_victim(posts)
    assert len(tries) == 1, report
    assert tries[0]["attempts"][0] == (VICTIM_ADDR, "502") and len(tries[0]["attempts"]) == 2, report
    print("\nPOST to app2 refusing on %s: client got %d, log %s" % (host.backend.host, tries[0]["status"], tries[0]["attempts"]))

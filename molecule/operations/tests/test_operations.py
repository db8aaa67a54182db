"""The playbooks as operators run them: ansible-playbook balancer.nginx.deploy/.verify -i inventory.

Each test runs the collection's playbooks against the scenario's two proxies
(the inventory Molecule wrote, with the guide's variables), changing only
extra variables, and checks the proxies from inside: the files under
/etc/nginx/conf.d byte for byte with their modification times, how often
systemd reloaded Nginx, nginx -T, and real requests (curl to 127.0.0.1 in
bounded loops). Every test leaves the guide's setup deployed again. The
helpers are molecule/shared/lab_ops.py; a change Nginx rejects and the
rollback playbook are proven by the rollback scenario, a rollout that stops
at the first failing proxy by the fleet scenario.
"""

from lab_ops import PROXIES, TWO_VHOSTS, WEIGHTED, files, playbook, recap, reloads, set_mode, split, state

import pytest


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

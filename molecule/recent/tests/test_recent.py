"""The version-gated upstream features: working on nginx 1.30 (sid), refused on 1.22 (bookworm) and 1.26 (trixie).

The sid proxy converged with the group "moving" (zone, resolver 127.0.0.1
valid=1s, one server app.lab.test:8081 resolve) and the group "sticky_pool"
(sticky cookie srv_id over app1..3). Names are served by the lab DNS of the
image (dnsmasq on 127.0.0.1:53, TTL 1 s), moved with balancer-lab-dns. Every
request is curl to 127.0.0.1 inside the container, in bounded loops; which
address Nginx used comes from the vhost's upstream_debug log. Deploys run
ansible-playbook balancer.nginx.deploy (and .verify) with extra variables,
as operators do.
"""

import collections
import concurrent.futures
import hashlib
import json
import re
import uuid

import pytest

from lab_ops import RUNNER, node, playbook, recap

NEW = RUNNER.get_hosts("new_nginx")
OLD = RUNNER.get_hosts("old_nginx")
SID = NEW[0]
MOVING, STICKY = "moving.lab.test", "sticky.lab.test"
BACKENDS = {"app1": "127.0.0.1:8081", "app2": "127.0.0.1:8082", "app3": "127.0.0.1:8083"}


def sid_upstreams():
    """The sid proxy's load_balancer_upstreams (its host_vars), a fresh copy."""
    return json.loads(json.dumps(RUNNER.get_variables(SID)["load_balancer_upstreams"]))


def nginx_version(name):
    out = node(name).run("nginx -v").stderr
    return re.search(r"nginx/(\d+\.\d+\.\d+)", out).group(1)


def processes(name):
    """(master PID, worker PIDs, reloads through systemd): what a reload would change."""
    host = node(name)
    master = host.check_output("cat /run/nginx.pid")
    workers = host.check_output("ps -o pid= --ppid %s | sort" % master).split()
    reloads = int(host.check_output("journalctl -b -u nginx.service -o cat | grep -c '^Reloaded' || true"))
    return master, workers, reloads


def snapshot(name):
    """Every path under /etc/nginx with its type and mtime, every file's sha256, the reloads and the master PID."""
    host = node(name)
    listing = host.check_output("find /etc/nginx -printf '%p %y %T@\\n' | sort")
    sums = host.check_output("find /etc/nginx -type f -print0 | sort -z | xargs -0 sha256sum")
    return listing, sums, processes(name)


def send(name, vhost, count, tag, cookie_jar=None):
    """count requests through vhost; [(status, X-Backend, srv_id cookie set or '')] in order."""
    assert 0 < count <= 100
    jar = "-b %s -c %s" % (cookie_jar, cookie_jar) if cookie_jar else ""
    out = node(name).check_output(
        "for i in $(seq %d); do curl -s --max-time 5 %s -H 'Host: %s' -o /dev/null -D /tmp/lab-head "
        "-w '%%{http_code} %%header{x-backend} ' 'http://127.0.0.1/?req=%s-'$i; "
        "echo \"$(sed -n 's/^[Ss]et-[Cc]ookie: srv_id=\\([0-9a-f]*\\).*/\\1/p' /tmp/lab-head)\"; done"
        % (count, jar, vhost, tag))
    answers = [(line.split(" ") + ["", ""])[:3] for line in out.splitlines()]
    assert len(answers) == count
    return [tuple(a) for a in answers]


def upstream_addrs(name, vhost, tag, count):
    """[$upstream_addr] of the tagged requests, from the vhost's upstream_debug log, in order."""
    path = "/var/log/nginx/%s.upstream.log" % vhost
    host = node(name)
    host.run_expect([0], "for i in $(seq 50); do [ $(grep -c 'req=%s-' %s) -ge %d ] && exit 0; sleep 0.1; done; exit 1"
                    % (tag, path, count))
    found = re.findall(r"\?req=%s-\d+ .* upstream=(\S+) upstream_status=" % tag, host.check_output(
        "grep 'req=%s-' %s" % (tag, path)))
    assert len(found) == count
    return found


def backends(answers):
    assert {status for status, dummy, dummy in answers} == {"200"}, answers
    return dict(collections.Counter(backend for dummy, backend, dummy in answers))


def tag():
    return uuid.uuid4().hex[:8]


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()  # nosec - the cookie value Nginx documents, not a secret


def move(name, *addresses):
    node(name).check_output("balancer-lab-dns app.lab.test %s" % " ".join(addresses))


def wait_for_address(name, address, seconds=20):
    """Send one request every 0.1 s until Nginx proxies to address; return how long it took (s), measured inside."""
    label = tag()
    path = "/var/log/nginx/%s.upstream.log" % MOVING
    out = node(name).check_output(
        "start=$(date +%%s%%N); for i in $(seq %d); do "
        "curl -s --max-time 5 -o /dev/null -H 'Host: %s' 'http://127.0.0.1/?req=%s-'$i; "
        "if grep -q 'req=%s-'$i' .* upstream=%s ' %s; then echo $(( ($(date +%%s%%N) - start) / 1000000 )); exit 0; fi; "
        "sleep 0.1; done; echo never" % (seconds * 10, MOVING, label, label, address, path))
    assert out.strip() != "never", "Nginx did not proxy to %s within %d s of the DNS change" % (address, seconds)
    return int(out) / 1000.0


@pytest.fixture
def dns_restored():
    """After the test: app.lab.test is 127.0.0.1 again, and Nginx proxies there."""
    yield
    move(SID, "127.0.0.1")
    wait_for_address(SID, "127.0.0.1:8081")


@pytest.fixture
def sid_baseline():
    """After the test: the sid proxy deployed from its own variables again (no drain), evenly split."""
    yield
    rc, out = playbook("deploy", None, "--limit", SID)
    assert rc == 0, out
    assert backends(send(SID, STICKY, 30, tag())) == {"app1": 10, "app2": 10, "app3": 10}


def test_the_images_run_the_nginx_versions_the_scenario_is_about():
    assert nginx_version(SID).startswith("1.30."), nginx_version(SID)
    assert sorted(nginx_version(name).rsplit(".", 1)[0] for name in OLD) == ["1.22", "1.26"]


def test_sid_converged_with_the_features():
    config = node(SID).check_output("nginx -T 2>/dev/null")
    for line in ("zone moving 64k;", "resolver 127.0.0.1 valid=1s;", "resolver_timeout 2s;",
                 "server app.lab.test:8081 resolve;", "zone sticky_pool 64k;", "sticky cookie srv_id;"):
        assert "    %s\n" % line in config, line


def test_a_moved_name_is_followed_without_a_reload(dns_restored):
    before = processes(SID)
    label = tag()
    assert backends(send(SID, MOVING, 10, label)) == {"app1": 10}
    assert upstream_addrs(SID, MOVING, label, 10) == ["127.0.0.1:8081"] * 10

    move(SID, "127.0.0.2")
    took = wait_for_address(SID, "127.0.0.2:8081")
    print("app.lab.test -> 127.0.0.2: Nginx followed in %.2f s" % took)
    assert took <= 10, took   # valid=1s and a TTL of 1 s; the margin is for a loaded machine
    label = tag()
    assert backends(send(SID, MOVING, 10, label)) == {"app1": 10}
    assert upstream_addrs(SID, MOVING, label, 10) == ["127.0.0.2:8081"] * 10

    # two addresses for the name are two servers of the group, in turn
    move(SID, "127.0.0.3", "127.0.0.4")
    took = wait_for_address(SID, "127.0.0.3:8081")
    print("app.lab.test -> 127.0.0.3 127.0.0.4: Nginx followed in %.2f s" % took)
    wait_for_address(SID, "127.0.0.4:8081")
    label = tag()
    send(SID, MOVING, 20, label)
    assert collections.Counter(upstream_addrs(SID, MOVING, label, 20)) == {"127.0.0.3:8081": 10, "127.0.0.4:8081": 10}

    # the same master and worker, and no reload: Nginx re-resolved at run time
    assert processes(SID) == before


def test_the_sticky_cookie_keeps_a_client_on_its_backend():
    # without the cookie: round robin, and each answer sets the cookie of its server (md5 of address:port)
    answers = send(SID, STICKY, 30, tag())
    assert backends(answers) == {"app1": 10, "app2": 10, "app3": 10}
    assert {backend: cookie for dummy, backend, cookie in answers} == {
        app: md5(address) for app, address in BACKENDS.items()}
    # three clients with a cookie jar each: the first answer binds, the next 15 all go to the same backend
    first = {}
    for client in ("a", "b", "c"):
        jar = "/tmp/lab-jar-%s" % client
        node(SID).check_output("rm -f %s" % jar)
        first[client] = send(SID, STICKY, 1, tag(), jar)[0][1]
    assert sorted(first.values()) == ["app1", "app2", "app3"]
    for client, backend in first.items():
        answers = send(SID, STICKY, 15, tag(), "/tmp/lab-jar-%s" % client)
        assert backends(answers) == {backend: 15}, client
        # Nginx sets the cookie again with every answer, always the bound server's
        assert {cookie for dummy, dummy, cookie in answers} == {md5(BACKENDS[backend])}, client


def test_drain_stops_new_sessions_while_bound_ones_go_on(sid_baseline):
    jars = {}
    for app, address in BACKENDS.items():
        jars[app] = "/tmp/lab-drain-%s" % app
        # a cookie jar (curl's format; the domain is the Host sent) holding the cookie Nginx gives this server
        node(SID).check_output("printf '%s\\tFALSE\\t/\\tFALSE\\t0\\tsrv_id\\t%s\\n' > %s"
                               % (STICKY, md5(address), jars[app]))
        assert backends(send(SID, STICKY, 3, tag(), jars[app])) == {app: 3}

    upstreams = sid_upstreams()
    pool = next(group for group in upstreams if group["name"] == "sticky_pool")
    pool["servers"][2]["drain"] = True
    before = processes(SID)
    rc, out = playbook("deploy", {"load_balancer_upstreams": upstreams}, "--limit", SID)
    assert rc == 0, out
    assert recap(out)[SID]["failed"] == 0, out
    # the role's own verify expects nothing new for the draining server (60 requests, no cookie)
    assert "127.0.0.1:8083         0    0.0%  0 (0.0%)" in out, out
    assert processes(SID)[2] == before[2] + 1
    assert "    server 127.0.0.1:8083 drain;\n" in node(SID).check_output("nginx -T 2>/dev/null")

    # new clients (no cookie) never reach app3; the cookies they get are app1's and app2's
    answers = send(SID, STICKY, 30, tag())
    assert backends(answers) == {"app1": 15, "app2": 15}
    assert {cookie for dummy, dummy, cookie in answers} == {md5(BACKENDS["app1"]), md5(BACKENDS["app2"])}
    # clients bound to a server keep it, the draining one included
    for app, jar in jars.items():
        assert backends(send(SID, STICKY, 10, tag(), jar)) == {app: 10}, app

    # verify told that app3 takes its share again fails, naming it
    rc, out = playbook("verify", {"load_balancer_upstreams": sid_upstreams()}, "--limit", SID)
    assert rc != 0, out
    assert "expect_weights['127.0.0.1:8083']: measured 0 of 60 requests, expected 20" in out, out


# -- refused where Nginx is too old --------------------------------------------------------------------------

GUIDE_SERVERS = [{"address": "127.0.0.1:8081"}, {"address": "127.0.0.1:8082"}, {"address": "127.0.0.1:8083"}]


def guide_group(**options):
    group = {"name": "app_backend", "servers": json.loads(json.dumps(GUIDE_SERVERS))}
    group.update(options)
    return group


def with_server(index, **options):
    group = guide_group(zone="app_backend 64k")
    group["servers"][index].update(options)
    return group


# (case, group, option path, version needed, what Nginx calls it)
REFUSALS = {
    "resolver": (guide_group(zone="app_backend 64k", resolver=["127.0.0.1", "valid=1s"]),
                 "upstreams[0].resolver", "1.27.3", "resolver in upstream"),
    "resolve": (with_server(0, address="app.lab.test:8081", resolve=True),
                "upstreams[0].servers[0].resolve", "1.27.3", "server parameter resolve"),
    "sticky": (guide_group(zone="app_backend 64k", sticky=["cookie", "srv_id"]),
               "upstreams[0].sticky", "1.29.6", "sticky"),
    "drain": (with_server(2, drain=True), "upstreams[0].servers[2].drain", "1.29.6", "server parameter drain"),
    "route": (with_server(1, route="b"), "upstreams[0].servers[1].route", "1.29.6", "server parameter route"),
}
# and on sid, what 1.30 still lacks
SID_REFUSAL = (guide_group(method="least_time", least_time="header"), "upstreams[0].method", "1.31.0",
               "method=least_time")


def refusal(option_path, version, title, running):
    return ("%s: needs Nginx %s or newer (%s) and the proxy runs open source Nginx %s; upgrade Nginx to %s or newer, "
            "remove the option, or set nginx_plus: true if the proxy runs NGINX Plus." % (
                option_path, version, title, running, version))


@pytest.fixture(scope="module")
def refused():
    """Each refused deploy once per proxy (four at a time), with every proxy's /etc/nginx before and after."""
    runs = [(case, name, REFUSALS[case]) for case in REFUSALS for name in OLD] + [("least_time", SID, SID_REFUSAL)]
    hosts = OLD + [SID]
    before = dict((name, snapshot(name)) for name in hosts)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = dict(((case, name), pool.submit(playbook, "deploy", {"load_balancer_upstreams": [spec[0]]},
                                                  "--limit", name)) for case, name, spec in runs)
        results = dict((key, future.result()) for key, future in futures.items())
    after = dict((name, snapshot(name)) for name in hosts)
    return results, before, after


@pytest.mark.parametrize("name", OLD)
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_an_old_nginx_refuses_the_option_naming_the_version_it_needs(refused, case, name):
    results, dummy, dummy = refused
    rc, out = results[(case, name)]
    dummy, option_path, version, title = REFUSALS[case]
    assert rc != 0, out
    assert refusal(option_path, version, title, nginx_version(name)) in out, out
    assert recap(out)[name]["failed"] == 1, out
    assert "RUNNING HANDLER" not in out, out


def test_sid_refuses_what_nginx_1_30_still_lacks(refused):
    results, dummy, dummy = refused
    rc, out = results[("least_time", SID)]
    dummy, option_path, version, title = SID_REFUSAL
    assert rc != 0, out
    assert refusal(option_path, version, title, nginx_version(SID)) in out, out


@pytest.mark.parametrize("name", OLD + [SID])
def test_a_refused_deploy_writes_nothing_and_reloads_nothing(refused, name):
    dummy, before, after = refused
    assert after[name] == before[name]
    if name in OLD:
        assert backends(send(name, "example.com", 30, tag())) == {"app1": 10, "app2": 10, "app3": 10}

"""Where no service manager runs, the role reloads Nginx with a signal: once, and the split follows.

Requests go with curl from inside the container to 127.0.0.1:80, in a bounded loop.
"""

import collections


def test_no_service_manager_runs(host):
    assert not host.file("/run/systemd/system").exists
    assert host.file("/proc/1/comm").content_string.strip() == "sleep"


def test_the_master_was_reloaded_once_not_restarted(host):
    # converge reloaded once; the idempotence run did not reload
    log = host.file("/var/log/nginx/error.log").content_string
    assert log.count("signal 1 (SIGHUP) received") == 1, log
    assert host.file("/run/nginx.pid").content_string == host.file("/run/lab-master.pid").content_string


def test_the_split_follows_the_new_configuration(host):
    variables = host.ansible.get_variables()
    count = variables["lab_requests"]
    assert 0 < count <= 300
    out = host.check_output(
        "for i in $(seq %d); do curl -s --max-time 5 -H 'Host: example.com' -o /dev/null "
        "-w '%%{http_code} %%header{x-backend}\\n' http://127.0.0.1/; done" % count)
    answers = [line.split(" ", 1) for line in out.splitlines()]
    assert len(answers) == count
    assert {status for status, dummy in answers} == {"200"}
    assert dict(collections.Counter(backend for dummy, backend in answers)) == variables["lab_expected_split"]

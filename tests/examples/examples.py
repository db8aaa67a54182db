"""Run the EXAMPLES of the modules' documentation: build the playbook, judge the runs.

Helper of scripts/examples.sh (stdlib and PyYAML only, run with the virtualenv's
Python; ansible-doc must be on PATH and find balancer.nginx).

  python tests/examples/examples.py build PLAYBOOK
      Reads the EXAMPLES of every module in MODULES with
      `ansible-doc --json balancer.nginx.NAME`, parses each as a YAML task
      list and writes one playbook: one play per module, in MODULES order,
      on localhost, its tasks exactly as documented. Every handler the
      examples notify ("Reload nginx") becomes a handler that runs
      `nginx -t` only, so the proxy's Nginx is never reloaded.

  python tests/examples/examples.py report PASS1.json [PASS2.json]
      Reads the output of the runs (stdout callback ansible.posix.json),
      prints one line per task and fails when a task failed or was
      unreachable, when no task ran, or when the second pass changed a task
      other than those in NOT_IDEMPOTENT (or did not change one listed
      there, so that the list cannot go stale). Without PASS2.json (the
      first pass failed) only the first pass is judged.
"""
import json
import subprocess
import sys

import yaml

COLLECTION = "balancer.nginx"
# Order matters: each module's examples rely on what the earlier ones wrote
# (vhost needs the log format and the groups, config_info reads them back).
MODULES = ("log_format", "upstream", "vhost", "config_info", "site")
NGINX_TEST = "nginx -t"
# Actions an example may use. Anything else (service, command, ...) could
# touch the machine beyond /etc/nginx, so the build refuses it.
SAFE_ACTIONS = frozenset(
    ["ansible.builtin.debug", "ansible.builtin.assert", "ansible.builtin.set_fact"]
    + ["%s.%s" % (COLLECTION, name) for name in MODULES]
)
TASK_KEYWORDS = frozenset([
    "name", "register", "when", "notify", "loop", "loop_control", "vars", "tags",
    "check_mode", "diff", "changed_when", "failed_when", "ignore_errors", "no_log",
])

# Tasks that change on the second pass because of what later examples of the
# first pass did, not because the module is not idempotent. The site example
# runs last with exclusive=true: it rewrites app/www its own way and removes
# every managed file it does not describe. A second pass therefore starts
# from the site's configuration and has to put the other examples back,
# after which the site example has to take them away again.
NOT_IDEMPOTENT = {
    "A JSON access log":
        "site (exclusive) removed 00-log-format-json_upstream.conf; recreated",
    "Three backends, weights 3:2:1, passive health checks":
        "site rewrote app.conf without max_fails/fail_timeout and the backup server; written back",
    "Sticky by request URI with consistent hashing":
        "site (exclusive) removed cache.conf; recreated",
    "Fewest connections, written to a chosen file, with a backup copy":
        "site (exclusive) removed 10-api.conf; recreated",
    "Retries, timeouts and a websocket location":
        "site (exclusive) removed api.vhost.conf and the websocket map; recreated",
    "A 90/10 canary between two groups, each client staying on its side":
        "site (exclusive) removed shop.vhost.conf; recreated",
    "Verified TLS to the backends, TLS 1.2 or 1.3 only":
        "site (exclusive) removed secure.vhost.conf; recreated",
    "The whole proxy in one transaction":
        "the tasks above put back what it removes and rewrites; it removes and rewrites them again",
}


def fail(message):
    sys.stderr.write("examples.py: error: %s\n" % message)
    sys.exit(1)


def module_examples(module):
    """The EXAMPLES of one module as a list of task dicts."""
    fqcn = "%s.%s" % (COLLECTION, module)
    proc = subprocess.run(["ansible-doc", "--json", fqcn], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        fail("ansible-doc --json %s exited %d: %s" % (fqcn, proc.returncode, proc.stderr.strip()))
    try:
        doc = json.loads(proc.stdout)[fqcn]
    except (ValueError, KeyError) as exc:
        fail("ansible-doc --json %s: no entry for the module (%s)" % (fqcn, exc))
    text = doc.get("examples") or ""
    try:
        tasks = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        fail("%s EXAMPLES are not valid YAML: %s" % (fqcn, exc))
    if not isinstance(tasks, list) or not tasks:
        fail("%s EXAMPLES are not a non-empty list of tasks" % fqcn)
    for index, task in enumerate(tasks):
        where = "%s EXAMPLES task %d" % (fqcn, index + 1)
        if not isinstance(task, dict) or not task.get("name"):
            fail("%s: not a mapping with a name" % where)
        actions = [key for key in task if key not in TASK_KEYWORDS]
        if len(actions) != 1:
            fail("%s (%s): expected one action, found %s" % (where, task["name"], actions))
        if actions[0] not in SAFE_ACTIONS:
            fail("%s (%s): action %s is not one this test runs on the real /etc/nginx (%s)"
                 % (where, task["name"], actions[0], ", ".join(sorted(SAFE_ACTIONS))))
    return tasks


def notified(tasks):
    names = []
    for task in tasks:
        value = task.get("notify") or []
        for name in [value] if isinstance(value, str) else value:
            if name not in names:
                names.append(name)
    return names


def build(path):
    plays = []
    seen = {}
    for module in MODULES:
        tasks = module_examples(module)
        for task in tasks:
            if task["name"] in seen:
                fail("task name %r is used by the examples of %s and %s; names must be unique"
                     % (task["name"], seen[task["name"]], module))
            seen[task["name"]] = module
        handlers = [
            {"name": name, "ansible.builtin.command": NGINX_TEST, "changed_when": False}
            for name in notified(tasks)
        ]
        play = {
            "name": "EXAMPLES of %s.%s" % (COLLECTION, module),
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": tasks,
        }
        if handlers:
            play["handlers"] = handlers
        plays.append(play)
    stale = sorted(set(NOT_IDEMPOTENT) - set(seen))
    if stale:
        fail("NOT_IDEMPOTENT names tasks that no example has: %s" % stale)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("---\n# Generated by tests/examples/examples.py from ansible-doc; do not edit.\n")
        yaml.safe_dump(plays, handle, sort_keys=False, default_flow_style=False, width=1000)
    for module in MODULES:
        count = sum(1 for owner in seen.values() if owner == module)
        print("examples.py: %s.%s: %d example task(s)" % (COLLECTION, module, count))


def load_run(path):
    """[(play, task, status, message)] in run order, from ansible.posix.json output."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        data = json.loads(text[text.index("{"):])
    except ValueError as exc:
        fail("%s holds no output of the json callback; see ansible-playbook's messages above (%s)" % (path, exc))
    rows = []
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            for host, result in task.get("hosts", {}).items():
                if result.get("unreachable"):
                    status = "unreachable"
                elif result.get("failed"):
                    status = "failed"
                elif result.get("skipped"):
                    status = "skipped"
                elif result.get("changed"):
                    status = "changed"
                else:
                    status = "ok"
                message = ""
                for kind in ("warnings", "deprecations"):
                    for item in result.get(kind) or []:
                        sys.stderr.write("examples.py: %s in %s: %s\n" % (kind[:-1], task["task"]["name"], item))
                if status in ("failed", "unreachable"):
                    message = "%s: %s" % (host, result.get("msg") or result.get("stderr") or result)
                rows.append((play["play"]["name"], task["task"]["name"], status, message))
    return rows, data.get("stats", {})


def report(paths):
    problems = []
    runs = []
    for number, path in enumerate(paths, 1):
        rows, stats = load_run(path)
        if not rows:
            problems.append("pass %d: no task ran" % number)
        for play, task, status, message in rows:
            if status in ("failed", "unreachable"):
                problems.append("pass %d: %s / %s: %s\n    %s" % (number, play, task, status, message))
        runs.append((rows, stats))
    second_rows = runs[1][0] if len(runs) > 1 else []
    second_changed = set(task for play, task, status, message in second_rows if status == "changed")
    if len(runs) > 1:
        for task in sorted(second_changed - set(NOT_IDEMPOTENT)):
            problems.append("pass 2: %r changed again although nothing after it in pass 1 undid it" % task)
        for task in sorted(set(NOT_IDEMPOTENT) - second_changed):
            problems.append("pass 2: %r did not change; drop it from NOT_IDEMPOTENT (%s)" % (task, NOT_IDEMPOTENT[task]))

    second = dict(((play, task), status) for play, task, status, message in second_rows)
    print("%-9s %-9s %s" % ("pass 1", "pass 2", "play / task"))
    for play, task, status, message in runs[0][0]:
        print("%-9s %-9s %s / %s" % (status, second.get((play, task), "-"), play, task))
        if task in NOT_IDEMPOTENT and second.get((play, task)) == "changed":
            print("%-19s (expected on pass 2: %s)" % ("", NOT_IDEMPOTENT[task]))
    for number, (rows, stats) in enumerate(runs, 1):
        for host, counts in sorted(stats.items()):
            print("pass %d recap %s: %s" % (number, host, " ".join(
                "%s=%s" % (key, counts.get(key, 0)) for key in ("ok", "changed", "failures", "unreachable", "skipped"))))
    if problems:
        for problem in problems:
            sys.stderr.write("examples.py: FAIL %s\n" % problem)
        sys.exit(1)
    if len(runs) > 1:
        print("examples.py: every example ran twice; pass 2 changed only the %d task(s) expected" % len(second_changed))


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "build":
        build(args[1])
    elif len(args) in (2, 3) and args[0] == "report":
        report(args[1:])
    else:
        fail("usage: examples.py build PLAYBOOK | report PASS1.json [PASS2.json]")


if __name__ == "__main__":
    main()

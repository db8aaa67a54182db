#!/usr/bin/env bash
# Create (or bring up to date) the development virtualenv from
# requirements-dev.txt, and the get-pip stand-in that `ansible-test --venv`
# needs (its own bootstrap download host is not reachable from here).
#
# usage: scripts/setup-venv.sh VENV
#   PYTHON=/path/to/python3.11  interpreter to build the venv from
#                               (default: the first python3.11/python3 on
#                               PATH that is not inside VENV)
# Idempotent: a second run with the same requirements returns in about a
# second.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="${1:?usage: $0 VENV}"
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac
req="$root/requirements-dev.txt"
want_minor="3.11"

log() { printf 'setup-venv: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -r "$req" ] || die "$req not found"

# --- the interpreter the venv is built from ---------------------------------
find_python() {
    if [ -n "${PYTHON:-}" ]; then
        command -v "$PYTHON" || die "PYTHON=$PYTHON is not an executable"
        return
    fi
    local dir cand
    local IFS=:
    for cand in python3.11 python3; do
        for dir in $PATH; do
            [ -n "$dir" ] || continue
            case "$dir" in "$venv"/*|"$venv") continue ;; esac
            if [ -x "$dir/$cand" ] &&
               [ "$("$dir/$cand" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want_minor" ]; then
                printf '%s\n' "$dir/$cand"
                return
            fi
        done
    done
    die "no Python $want_minor found on PATH (set PYTHON=/path/to/python$want_minor)"
}

python="$(find_python)"
"$python" -c 'import venv, ensurepip' 2>/dev/null ||
    die "$python lacks the venv/ensurepip modules (Debian: apt-get install python3-venv)"

req_hash="$( (cat "$req"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
marker="$venv/.requirements-dev.sha256"

# --- the virtualenv ----------------------------------------------------------
venv_ok() {
    [ -x "$venv/bin/python" ] &&
    [ "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want_minor" ] &&
    "$venv/bin/python" -m pip --version >/dev/null 2>&1
}

if ! venv_ok; then
    log "creating $venv with $python"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$req_hash" ]; then
    log "$venv is up to date with requirements-dev.txt"
else
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    log "upgrading pip"
    "$venv/bin/python" -m pip install -q --upgrade pip
    log "installing requirements-dev.txt (a few minutes when cold)"
    "$venv/bin/python" -m pip install -q -r "$req"
    "$venv/bin/python" -m pip check >/dev/null || {
        "$venv/bin/python" -m pip check >&2 || true
        die "pip check reports broken requirements in $venv"
    }
    printf '%s\n' "$req_hash" >"$marker"
fi

# --- the get-pip stand-in for ansible-test --------------------------------
# ansible-test's bootstrap (_util/target/setup/requirements.py) looks for
#   ~/.ansible/test/cache/get_pip_<X_Y>.py
# and downloads it from a host that is not reachable here when it is missing.
# It then runs, in the fresh pip-less venv,
#   python quiet_pip.py --disable-pip-version-check pip==X.Y --no-setuptools --no-wheel
# with GET_PIP=<that file>; quiet_pip.py runpy-runs it as __main__ with those
# arguments. The stand-in installs pip from the interpreter's own ensurepip
# wheel (offline) and then the requested pip from the package index.
# X.Y is read from the installed ansible-test (get_venv_packages in
# _internal/python_requirements.py), so a newer ansible-core gets its file.
pip_ver="$("$venv/bin/python" - <<'PY'
import re, pathlib, ansible_test
p = pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py"
m = re.search(r"default_packages\s*=\s*dict\(\s*pip\s*=\s*['\"]([^'\"]+)['\"]", p.read_text())
print(m.group(1) if m else "")
PY
)"
[ -n "$pip_ver" ] || die "could not read the pip version from ansible-test's python_requirements.py"

cache_dir="${HOME:?}/.ansible/test/cache"
standin="$cache_dir/get_pip_${pip_ver//./_}.py"
mkdir -p "$cache_dir"
tmp="$(mktemp "$cache_dir/.get_pip.XXXXXX")"
cat >"$tmp" <<'EOF'
#!/usr/bin/env python
# balancer.nginx: stand-in for the get-pip bootstrap that ansible-test
# downloads (its host is not reachable here). Written by
# scripts/setup-venv.sh; safe to delete, `make venv` writes it again.
#
# ansible-test runs it (through quiet_pip.py, GET_PIP=<this file>) as
#   python get_pip_X_Y.py --disable-pip-version-check pip==X.Y --no-setuptools --no-wheel
# 1. install pip from this interpreter's bundled ensurepip wheel (offline);
# 2. with it, install the requested packages from the configured index,
#    unless the bundled pip already is the one asked for.
# Like get-pip.py: --no-setuptools / --no-wheel / --no-pip are understood,
# every other option goes to `pip install`.
import os
import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel", "--no-pip")


def installed_pip():
    out = subprocess.run(
        [sys.executable, "-c", "import pip; print(pip.__version__)"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    return out.stdout.strip() if out.returncode == 0 else None


def main():
    args = sys.argv[1:]
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        sys.exit("get_pip stand-in: %s has no ensurepip module "
                 "(Debian: apt-get install python3-venv)" % sys.executable)

    env = dict(os.environ)
    env.pop("GET_PIP", None)
    env.pop("PIP_REQUIRE_VIRTUALENV", None)
    subprocess.check_call(
        [sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
        env=env, stdout=subprocess.DEVNULL,
    )

    options = [a for a in args if a.startswith("-") and a not in GET_PIP_ONLY]
    packages = [a for a in args if not a.startswith("-")]
    if "--no-pip" in args:
        packages = [p for p in packages if not p.split("=")[0].split("<")[0].split(">")[0].strip() == "pip"]
    if "--no-setuptools" not in args and not any(p.startswith("setuptools") for p in packages):
        packages.append("setuptools")
    if "--no-wheel" not in args and not any(p.startswith("wheel") for p in packages):
        packages.append("wheel")

    if "--no-setuptools" in args:
        # Python 3.11's ensurepip also installs setuptools; get-pip would not.
        subprocess.call(
            [sys.executable, "-m", "pip", "uninstall", "-q", "-y", "setuptools"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    have = installed_pip()
    packages = [p for p in packages if not (have and p == "pip==" + have)]
    if not packages:
        return 0
    return subprocess.call(
        [sys.executable, "-m", "pip", "install"] + options + packages, env=env,
    )


if __name__ == "__main__":
    sys.exit(main())
EOF
if cmp -s "$tmp" "$standin"; then
    rm -f "$tmp"
else
    mv -f "$tmp" "$standin"
    log "wrote $standin"
fi

log "ready: $venv ($("$venv/bin/python" -V 2>&1), ansible-core $("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)'))"

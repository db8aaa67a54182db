#!/usr/bin/env bash
# Run ansible-test on a clean copy of the collection.
#
# usage: scripts/ansible-test.sh sanity|units [extra ansible-test options]
#   e.g. scripts/ansible-test.sh sanity --test pylint
#        scripts/ansible-test.sh units tests/unit/plugins/filter
#
# ansible-test wants the collection at .../ansible_collections/NS/NAME and
# looks at every file there (a working tree holds .venv, .cache, molecule
# state...). So the files git knows about (tracked, plus untracked ones that
# are not ignored) are mirrored into
#   .cache/ansible-test/ansible_collections/balancer/nginx
# and ansible-test runs there, in its own virtualenvs (--venv, Python 3.11).
# Its get-pip download is served by the stand-in that setup-venv.sh writes.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
python_version="${ANSIBLE_TEST_PYTHON:-3.11}"

log() { printf 'ansible-test.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cmd="${1:-}"
case "$cmd" in
    sanity|units) shift ;;
    *) die "usage: $0 sanity|units [ansible-test options]" ;;
esac

command -v ansible-test >/dev/null || die "ansible-test not on PATH (run: make venv, or use the Makefile)"
command -v rsync >/dev/null || die "rsync is missing (run: make apt)"
command -v git >/dev/null || die "git is missing (run: make apt)"
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 || die "$root is not a git working tree"

ns="$(sed -n 's/^namespace:[[:space:]]*//p' "$root/galaxy.yml" | tr -d "\"' ")"
name="$(sed -n 's/^name:[[:space:]]*//p' "$root/galaxy.yml" | tr -d "\"' ")"
if [ -z "$ns" ] || [ -z "$name" ]; then die "cannot read namespace/name from galaxy.yml"; fi

pip_ver="$(python - <<'EOF' 2>/dev/null || true
import re, pathlib, ansible_test
p = pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py"
m = re.search(r"default_packages\s*=\s*dict\(\s*pip\s*=\s*['\"]([^'\"]+)['\"]", p.read_text())
print(m.group(1) if m else "")
EOF
)"
if [ -n "$pip_ver" ] && [ ! -f "$HOME/.ansible/test/cache/get_pip_${pip_ver//./_}.py" ]; then
    die "no get-pip stand-in at ~/.ansible/test/cache/get_pip_${pip_ver//./_}.py (run: scripts/setup-venv.sh .venv)"
fi

dest="$root/.cache/ansible-test/ansible_collections/$ns/$name"
mkdir -p "$dest"

# Mirror: the include list names every file and each parent directory;
# everything else in the copy (stale files, old tests/output) is deleted.
list="$(mktemp)"
trap 'rm -f "$list"' EXIT
(
    cd "$root"
    git ls-files -co --exclude-standard -z |
        while IFS= read -r -d '' f; do
            [ -e "$f" ] || [ -L "$f" ] || continue   # deleted but still in the index
            d="$(dirname "$f")"
            while [ "$d" != "." ]; do printf '/%s/\n' "$d"; d="$(dirname "$d")"; done
            printf '/%s\n' "$f"
        done | sort -u
) >"$list"
rsync -a --delete --delete-excluded --filter='P /.git' --include-from="$list" --exclude='*' "$root/" "$dest/"
# The copy lies inside this working tree, where git ignores .cache/: without a
# repository of its own, ansible-test would ask the outer one and see no
# files at all ("All targets skipped"). A fresh repository with nothing
# committed lists every file of the copy as untracked, minus .gitignore.
[ -d "$dest/.git" ] || git -C "$dest" init -q
log "copied $(grep -vc '/$' "$list") files to $dest"

cd "$dest"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
case "$cmd" in
    sanity)
        set -x
        ansible-test sanity --venv --python "$python_version" --requirements --color no -v "$@"
        ;;
    units)
        if [ ! -d tests/unit ] || [ -z "$(find tests/unit -name 'test_*.py' -print -quit)" ]; then
            die "no unit tests under tests/unit: a units run that tests nothing fails"
        fi
        out="$(mktemp)"
        set -x
        ansible-test units --venv --python "$python_version" --requirements --color no -v "$@" 2>&1 | tee "$out"
        set +x
        # ansible-test reports "All targets skipped" and succeeds when it found nothing to run.
        passed="$(grep -Eo '[0-9]+ passed' "$out" | awk '{n += $1} END {print n + 0}')"
        rm -f "$out"
        [ "$passed" -gt 0 ] || die "ansible-test units ran no test (0 passed)"
        log "ansible-test units: $passed tests passed"
        ;;
esac

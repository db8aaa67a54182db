#!/usr/bin/env bash
# Lint the whole collection: playbooks, roles, molecule scenarios,
# integration targets and every other YAML file.
#
#   yamllint -s .              (.yamllint: ansible-lint's recommended settings)
#   ansible-lint --offline     (.ansible-lint: profile production)
#   antsibull-changelog lint   (changelogs/fragments)
#   flake8 on plugins/ with Galaxy's import settings (E, F and W - so a line
#                              break before or after a binary operator fails
#                              too - lines up to 160), so `make build` does not
#                              find it late
#
# Every check runs; the script fails if any of them failed.
# Run through `make lint`, or with the virtualenv's bin on PATH.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root" || exit 1

log() { printf 'lint.sh: %s\n' "$*" >&2; }

for tool in yamllint ansible-lint antsibull-changelog flake8; do
    command -v "$tool" >/dev/null || { log "error: $tool not on PATH (run: make venv)"; exit 1; }
done

# ansible-lint resolves balancer.nginx.* through ANSIBLE_COLLECTIONS_PATH (the
# Makefile points it at .cache/collections, where the working tree is linked
# in) and the collections of the `ansible` package through sys.path.
if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]; then
    mkdir -p .cache/collections/ansible_collections/balancer
    ln -sfn "$root" .cache/collections/ansible_collections/balancer/nginx
    export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
fi
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="${ANSIBLE_COLLECTIONS_SCAN_SYS_PATH:-true}"
export NO_COLOR=1 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0

failed=()
run() {
    local label=$1; shift
    log "$label: $*"
    if "$@"; then
        log "$label: ok"
    else
        log "$label: FAILED"
        failed+=("$label")
    fi
}

run yamllint yamllint -s -f parsable .
run ansible-lint ansible-lint --offline --nocolor -f pep8
run changelog antsibull-changelog lint
run flake8 flake8 --isolated --select E,F,W --extend-ignore E402 --max-line-length 160 plugins

if [ ${#failed[@]} -ne 0 ]; then
    log "failed: ${failed[*]}"
    exit 1
fi
log "all lint checks passed"

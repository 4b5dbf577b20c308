#!/usr/bin/env bash
# Runs every test: builds the solution, runs each test project - SketchService.Libraries.Tests,
# SketchService.DataFetch.Tests, SketchService.Api.Tests (HTTP, the .NET client, browser) - the JavaScript client's
# node --test suite against the service (scripts/test-js.sh), then the TorchSharp trainer tests
# (through the newer glibc/libstdc++ loader where this machine needs one; see scripts/torch-loader.sh).
# Ends with one line "N passed, N failed, N skipped" over all of them; exits non-zero on any failure.
# SKIP_BROWSER=1 leaves out the browser tests (Chromium through Playwright: [Trait("Category", "Browser")]).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
results="$root/artifacts/test-results"
# Tests that read the shared data ($SKETCH_DATA, default ../shared; scripts/fetch-data.sh downloads it) are skipped
# without it, saying so. CI must run them all: there a missing file fails its test instead.
if [ "${CI:-}" = true ]; then export SKETCH_DATA_REQUIRED="${SKETCH_DATA_REQUIRED:-1}"; fi
rm -rf "$results"; mkdir -p "$results"

echo "== build"
dotnet build SketchService.sln -c Release -nologo -v q -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

status=0
run_tests() { # name, dotnet executable, more runner options
  local name="$1" dotnet="$2"; shift 2
  echo "== $name"
  "$dotnet" "tests/$name/bin/Release/net10.0/$name.dll" -noColor -result-xml "$results/$name.xml" "$@" || status=1
  [ -s "$results/$name.xml" ] || { echo "$name produced no results"; status=1; }
}

data="${SKETCH_DATA:-$(dirname "$root")/shared}"
# A file, not the folder: a fetch that could not download leaves no tree behind, but an older one may have.
[ -f "$data/data/sketchrnn/aaron_sheep.npz" ] && echo "== shared data: $data" || echo "== shared data: $data is missing or incomplete: the tests that need it are skipped (scripts/fetch-data.sh)"
browser=()
if [ "${SKIP_BROWSER:-}" = 1 ]; then browser=(-trait- "Category=Browser"); echo "== browser tests left out (SKIP_BROWSER=1)"; fi
run_tests SketchService.Libraries.Tests dotnet
run_tests SketchService.DataFetch.Tests dotnet
# p5.js for the browser test of the ml5 example (clients/js/package-lock.json pins it).
if [ "${SKIP_BROWSER:-}" != 1 ] && [ ! -f clients/js/node_modules/p5/lib/p5.min.js ]; then
  (cd clients/js && npm ci --no-audit --no-fund --loglevel=error) || status=1
fi
run_tests SketchService.Api.Tests dotnet "${browser[@]}"
echo "== JavaScript client (node --test)"
bash scripts/test-js.sh "$results/js.counts" || status=1
[ -s "$results/js.counts" ] || { echo "the JavaScript client's tests produced no counts"; status=1; }
torch_dotnet="$(scripts/torch-loader.sh)" || { echo "could not provision the TorchSharp loader"; status=1; torch_dotnet=""; }
[ -n "$torch_dotnet" ] && run_tests SketchService.Trainer.Tests "$torch_dotnet"

# Sum the totals of every assembly in every report.
read -r passed failed skipped < <(cat "$results"/*.xml 2>/dev/null | grep -o '<assembly [^>]*' | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]); v[kv[1]] += kv[2] } }
  END { printf "%d %d %d\n", v["passed"], v["failed"] + v["errors"], v["skipped"] + v["not-run"] }')
# …and the JavaScript client's counts.
if [ -s "$results/js.counts" ]; then
  read -r jp jf js < "$results/js.counts"
  passed=$((passed + ${jp:-0})); failed=$((failed + ${jf:-0})); skipped=$((skipped + ${js:-0}))
fi
[ "${failed:-0}" -eq 0 ] || status=1
[ "${passed:-0}" -gt 0 ] || status=1
[ "${skipped:-0}" -eq 0 ] || echo "(skipped tests say why above; most need the shared data: scripts/fetch-data.sh, see the README's Data section)"
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit $status

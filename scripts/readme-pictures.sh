#!/usr/bin/env bash
# Draws the completion pictures of the README and docs/training.md: imports three of Google's pretrained models from the shared data
# ($SKETCH_DATA, default ../shared beside the repository; scripts/fetch-data.sh downloads it) into a temp
# folder, serves them with the API, and asks POST /complete?format=svg to continue the first strokes of real
# Quick Draw drawings of each class. Writes docs/images/complete-<class>.svg. Then, on the committed default model
# models/sheep and the Quick Draw sheep in tests/fixtures: docs/images/sheep-generate.svg (POST /generate),
# sheep-interpolate.svg (POST /interpolate) and sheep-arithmetic.svg (POST /arithmetic: its operands, then the result).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared="${SKETCH_DATA:-$root/../shared}"
tmp="$(mktemp -d)"; trap 'kill $api 2>/dev/null || true; rm -rf "$tmp"' EXIT
dotnet build src/SketchService.Trainer -c Release -nologo -v q -clp:ErrorsOnly
dotnet build src/SketchService.Api -c Release -nologo -v q -clp:ErrorsOnly
classes=(bird dog bicycle)
for c in "${classes[@]}"; do
  dotnet src/SketchService.Trainer/bin/Release/net10.0/sketch-trainer.dll import-magenta "$shared/models/magenta/$c.gen.json" --out "$tmp/models/$c" >/dev/null
done
cp -r models/sheep "$tmp/models/sheep"
port=5099
source scripts/serve-api.sh
serve_api "$tmp/models" "$port" "$tmp/api.log"
mkdir -p docs/images
for c in "${classes[@]}"; do
  # The first drawing of the class, cut to its first strokes (the first third of them, at least one).
  body="$(python3 - "$shared/data/quickdraw/simplified/$c.ndjson" "$c" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).readline())["drawing"]
keep = d[:max(1, len(d) // 3)]
print(json.dumps({"model": sys.argv[2], "sketch": {"polylines": keep}, "samples": 4, "temperature": 0.5, "seed": 3, "max_steps": 300}))
PY
)"
  curl -sf -X POST "http://127.0.0.1:$port/complete?format=svg" -H 'Content-Type: application/json' -H 'Accept: application/json' \
       -d "$body" -o "docs/images/complete-$c.svg"
  echo "docs/images/complete-$c.svg"
done

# The default model: eight samples, an interpolation between two test-fixture sheep, and latent arithmetic that
# moves the legs of fixture sheep 3 onto fixture sheep 2 (drawn without legs): a + (b - c), where c is b without
# its last four strokes (the legs).
sheep=tests/fixtures/quickdraw/simplified/sheep.ndjson
post() { curl -sf -X POST "http://127.0.0.1:$port/$1" -H 'Content-Type: application/json' -d "$2" -o "$3"; echo "$3"; }
post 'generate?format=svg' '{"model":"sheep","samples":8,"temperature":0.5,"seed":1}' docs/images/sheep-generate.svg
read -r interpolate arithmetic < <(python3 - "$sheep" <<'PY'
import json, sys
d = [json.loads(l)["drawing"] for l in open(sys.argv[1])]
interpolate = {"model": "sheep", "from": {"polylines": d[0]}, "to": {"polylines": d[2]}, "n": 5, "method": "slerp", "temperature": 0.1, "seed": 2}
arithmetic = {"model": "sheep", "expression": "a + (b - c)", "temperature": 0.1, "seed": 5,
              "operands": {"a": {"polylines": d[1]}, "b": {"polylines": d[2]}, "c": {"polylines": d[2][:-4]}}}
print(json.dumps(interpolate, separators=(",", ":")), json.dumps(arithmetic, separators=(",", ":")))
PY
)
post 'interpolate?format=svg' "$interpolate" docs/images/sheep-interpolate.svg
post 'arithmetic?format=svg' "$arithmetic" docs/images/sheep-arithmetic.svg

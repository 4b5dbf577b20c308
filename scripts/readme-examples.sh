#!/usr/bin/env bash
# Runs the curl examples of docs/api.md ("Examples on models/sheep") against the committed default model and prints each
# response cut to its first characters, so the trimmed outputs in docs/api.md can be checked or redrawn after a retrain.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dotnet build src/SketchService.Api -c Release -nologo -v q -clp:ErrorsOnly
tmp="$(mktemp -d)"; trap 'kill $api 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=5098
url="http://127.0.0.1:$port"
source scripts/serve-api.sh
serve_api "$root/models" "$port" "$tmp/api.log"

fixture=tests/fixtures/quickdraw/simplified/sheep.ndjson
SHEEP=$(head -1 "$fixture" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["drawing"]))')
LEGS=$(head -1 "$fixture" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["drawing"][:2]))')
ZERO=$(python3 -c 'print(",".join(["0"]*128))')
show() { echo "\$ $1"; cut -c1-"${2:-600}"; echo; }
post() { curl -s -X POST "$url/$1" -H 'Content-Type: application/json' "${@:2}"; }

curl -s "$url/health/ready" | show 'GET /health/ready'
curl -s "$url/models" | show 'GET /models'
post encode -d "{\"sketch\":{\"polylines\":$SHEEP},\"seed\":1}" | show 'POST /encode' 200
post complete -H 'Accept: application/json' -d "{\"sketch\":{\"polylines\":$LEGS},\"samples\":2,\"temperature\":0.5,\"seed\":3}" \
  | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["prefix_points"], [(len(s["strokes"]), s["steps"], s["ended_by_itself"]) for s in r["sketches"]], r["stats"])' \
  | show 'POST /complete (JSON): prefix_points, [(strokes rows, steps, ended_by_itself)], stats'
post complete -N -d "{\"sketch\":{\"polylines\":$LEGS},\"temperature\":0.5,\"seed\":3}" | head -5 | show 'POST /complete (SSE)' || true  # head closes the stream early
post generate -d '{"samples":1,"temperature":0.5,"seed":1}' | show 'POST /generate' 200
post interpolate -d "{\"from\":{\"polylines\":$SHEEP},\"to\":{\"z\":[$ZERO]},\"n\":4,\"method\":\"slerp\",\"temperature\":0.1,\"seed\":2}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"])' | show 'POST /interpolate: stats'
post arithmetic -d "{\"expression\":\"a + 0.5*(b - a)\",\"operands\":{\"a\":{\"polylines\":$SHEEP},\"b\":{\"z\":[$ZERO]}},\"temperature\":0.1,\"seed\":5}" \
  | show 'POST /arithmetic' 200
post arithmetic -d '{"expression":"a + (b -","operands":{"a":{"z":[0]}}}' | show 'POST /arithmetic (bad expression)'
post complete -d '{"sketch":{"strokes":[[1,2,3]]}}' | show 'POST /complete (bad pen)'

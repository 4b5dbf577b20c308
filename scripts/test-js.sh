#!/usr/bin/env bash
# The JavaScript client's tests (clients/js/test, node --test) against the service, built and started here on the
# committed models/ at a free port, stopped afterwards. Writes the counts to $1 (passed failed skipped) when given.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dll="$root/src/SketchService.Api/bin/Release/net10.0/SketchService.Api.dll"
[ -f "$dll" ] || dotnet build "$root/src/SketchService.Api" -c Release -nologo -v q -clp:ErrorsOnly || exit 1
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
(cd "$root/src/SketchService.Api" && exec env ASPNETCORE_URLS="http://127.0.0.1:$port" SketchService__ModelsPath="$root/models" \
  Serilog__MinimumLevel__Default=Warning dotnet "$dll" >"$log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { tail -30 "$log"; echo "the service did not get ready"; exit 1; }
out="$(cd "$root/clients/js" && SKETCH_URL="http://127.0.0.1:$port" node --test --test-reporter=tap test/ 2>&1)"
rc=$?
echo "$out" | grep -E '^(not )?ok |^# (pass|fail|cancelled|skipped|todo)|^ +(error|expected|actual|stack):' | head -80
count() { echo "$out" | awk -v k="# $1" 'index($0, k " ") == 1 { print $3 }' | tail -1; }
# A test that timed out is "cancelled": a failure too.
if [ -n "${1:-}" ]; then echo "$(count pass) $(( $(count fail) + $(count cancelled) )) $(( $(count skipped) + $(count todo) ))" >"$1"; fi
exit $rc

#!/usr/bin/env bash
# Deployment check, without a Docker engine (.ci/run runs it before the tests; docs/docker.md):
#   1. lints Dockerfile (dockerfilelint, dockerfile-utils) and docker-compose.yml (dclint), pinned versions through npx:
#      any finding fails (the few deliberate exceptions are explained inline in those files);
#   2. runs the Dockerfile's own restore + publish commands (Release, -r linux-x64) on a copy of the build context,
#      into a temporary folder laid out like the image: <tmp>/app with the models at <tmp>/app/models;
#   3. starts it the way the api image's ENTRYPOINT does: `dotnet SketchService.Api.dll` in the app folder, as the non-root
#      user `app` (created when absent; as yourself when not root), with only the image's environment;
#   4. waits for /health/ready, POSTs a real /complete (JSON) and checks the sketch, runs the HEALTHCHECK's probe mode
#      (exit 0 when ready, 1 for a port nothing listens on), prints the sizes, stops it with SIGTERM (exit 0 expected).
# Models: the repository's models/ when it holds a model folder (as the image bakes in), otherwise Google's pretrained
# bird imported with `sketch-trainer import-magenta` ($SKETCH_DATA/models/magenta/bird.gen.json, $SKETCH_DATA by default
# ../shared; downloaded when absent).
# Ends with "deploy-check: OK ..." and exit 0, or "deploy-check: FAILED ..." and exit 1.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The api stage's commands, exactly as in the Dockerfile (checked below, so the two cannot drift apart).
RESTORE='dotnet restore src/SketchService.Api/SketchService.Api.csproj -r linux-x64'
PUBLISH='dotnet publish src/SketchService.Api/SketchService.Api.csproj -c Release -r linux-x64 --self-contained false -p:UseAppHost=false --no-restore -o /app'
DOCKERFILELINT=dockerfilelint@1.8.0
DOCKERFILE_UTILS=dockerfile-utils@0.16.3
DCLINT=dclint@3.1.0

start=$(date +%s)
checks=0
step() { echo "== $*"; }
ok() { checks=$((checks + 1)); echo "   ok: $*"; }
fail() { echo "   FAILED: $*"; echo "deploy-check: FAILED ($checks checks passed before this one)"; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/deploy-check.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- 1. lint ---------------------------------------------------------------------------------------------------------
step "lint (npx $DOCKERFILELINT, $DOCKERFILE_UTILS, $DCLINT)"
command -v npx >/dev/null || fail "npx not found (install Node.js 20+: .ci/run does)"
out="$(npx --yes "$DOCKERFILELINT" Dockerfile 2>&1)" || { echo "$out"; fail "dockerfilelint found problems in Dockerfile"; }
ok "dockerfilelint: $(echo "$out" | grep -o 'Issues: .*' | head -1)"
out="$(npx --yes "$DOCKERFILE_UTILS" lint -j Dockerfile 2>&1)" || { echo "$out"; fail "dockerfile-utils could not lint Dockerfile"; }
[ "$(echo "$out" | tail -1)" = "[]" ] || { npx --yes "$DOCKERFILE_UTILS" lint Dockerfile || true; fail "dockerfile-utils found problems in Dockerfile"; }
ok "dockerfile-utils: no findings"
out="$(npx --yes "$DCLINT" --max-warnings 0 docker-compose.yml 2>&1)" || { echo "$out"; fail "dclint found problems in docker-compose.yml"; }
ok "dclint: no findings"

# ---- 2. publish as the Dockerfile does -------------------------------------------------------------------------------
step "publish (the Dockerfile's api build stage)"
grep -qxF "RUN $RESTORE" Dockerfile || fail "Dockerfile no longer runs '$RESTORE': update scripts/deploy-check.sh with it"
grep -qxF "RUN $PUBLISH" Dockerfile || fail "Dockerfile no longer runs '$PUBLISH': update scripts/deploy-check.sh with it"
# The build stage's COPY lines: the props files, Core, Runtime, Api and the JavaScript client (without local bin/ and
# obj/, as .dockerignore says).
mkdir -p "$tmp/src"
tar -C "$root" --exclude=bin --exclude=obj -cf - Directory.Build.props Directory.Packages.props \
  src/SketchService.Core src/SketchService.Runtime src/SketchService.Api clients/js/sketchservice.js | tar -C "$tmp/src" -xf -
t=$(date +%s.%N)
(cd "$tmp/src" && $RESTORE -nologo -v q >"$tmp/restore.log" 2>&1) || { tail -30 "$tmp/restore.log"; fail "restore"; }
(cd "$tmp/src" && ${PUBLISH% /app} "$tmp/app" -nologo -v q -clp:ErrorsOnly >"$tmp/publish.log" 2>&1) || { tail -30 "$tmp/publish.log"; fail "publish"; }
[ -f "$tmp/app/SketchService.Api.dll" ] || fail "publish produced no SketchService.Api.dll"
[ ! -e "$tmp/app/SketchService.Api" ] || fail "publish produced an apphost, though the image runs 'dotnet SketchService.Api.dll'"
others="$(find "$tmp/app" \( -path '*/runtimes/*' -type d -name native -not -path '*/runtimes/linux-x64/native' \) -o -iname 'onnxruntime*.dll' -o -name '*.dylib')"
[ -z "$others" ] || fail "native libraries for other platforms were published: $others"
# The service reads model folders; writing them (OnnxSharp, Protobuf), data sets and training are not its business.
foreign="$(cd "$tmp/app" && ls OnnxSharp.dll Google.Protobuf.dll TorchSharp.dll SketchService.Export.dll SketchService.Data.dll SketchService.Trainer.dll 2>/dev/null || true)"
[ -z "$foreign" ] || fail "the published service carries assemblies it never runs: $foreign"
ok "restore + publish -c Release -r linux-x64 in $(elapsed "$t")"

# The image's `COPY models/ ./models/`; an imported bird when models/ has no model yet.
cp -r "$root/models" "$tmp/app/models"
if compgen -G "$root/models/*/model.json" >/dev/null; then
  ok "models from the repository: $(cd "$root/models" && ls -d */ | tr -d / | tr '\n' ' ')"
else
  trainer="$root/src/SketchService.Trainer/bin/Release/net10.0/sketch-trainer.dll"
  if [ ! -f "$trainer" ]; then
    t=$(date +%s.%N)
    dotnet build src/SketchService.Trainer -c Release -nologo -v q -clp:ErrorsOnly >"$tmp/trainer-build.log" 2>&1 || { tail -30 "$tmp/trainer-build.log"; fail "building the trainer"; }
    echo "   built the trainer in $(elapsed "$t")"
  fi
  source="${SKETCH_DATA:-$root/../shared}/models/magenta/bird.gen.json"; [ -f "$source" ] || source=bird
  dotnet "$trainer" import-magenta "$source" --out "$tmp/app/models/bird" >"$tmp/import.log" 2>&1 || { cat "$tmp/import.log"; fail "import-magenta $source"; }
  ok "models/ holds no model yet: imported Magenta's bird ($source) into the published models folder"
fi

# ---- 3. start it as the container does -------------------------------------------------------------------------------
step "run (as the api image: dotnet SketchService.Api.dll, non-root, ASPNETCORE_HTTP_PORTS, SketchService__ModelsPath)"
port=8080
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  echo "   port 8080 is taken here: using $port"
fi
closed="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
mkdir -p "$tmp/home"
as_app=()
if [ "$(id -u)" -eq 0 ]; then
  id -u app >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin app
  chown app "$tmp/home"
  chmod 755 "$tmp"; chmod -R a+rX "$tmp/app"
  as_app=(setpriv --reuid=app --regid=app --init-groups)
  user=app
else
  user="$(id -un)"; echo "   not root: running as $user"
fi
# Only what the image sets (aspnet:10.0-noble-chiseled + the api stage), nothing from this shell.
container_env=(env -i "PATH=$(dirname "$(readlink -f "$(command -v dotnet)")"):/usr/bin:/bin" "HOME=$tmp/home"
  DOTNET_RUNNING_IN_CONTAINER=true APP_UID=1654 "ASPNETCORE_HTTP_PORTS=$port" "SketchService__ModelsPath=$tmp/app/models")
t=$(date +%s.%N)
(cd "$tmp/app" && exec "${as_app[@]}" "${container_env[@]}" dotnet SketchService.Api.dll >"$tmp/server.log" 2>&1) &
server=$!
base="http://127.0.0.1:$port"
until curl -sf -o "$tmp/ready.json" "$base/health/ready"; do
  kill -0 "$server" 2>/dev/null || { cat "$tmp/server.log"; fail "the service exited before it was ready"; }
  [ "$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { print (b - a > 90) }')" = 0 ] || { tail -30 "$tmp/server.log"; fail "not ready within 90 s"; }
  sleep 0.2
done
ok "ready in $(elapsed "$t"): $(cat "$tmp/ready.json")"
uid="$(awk '/^Uid:/ { print $2 }' "/proc/$(pgrep -P "$server" -x dotnet || echo "$server")/status" 2>/dev/null || echo "?")"
if [ "$user" = app ]; then
  [ "$uid" = "$(id -u app)" ] || fail "the service runs as uid $uid, not as app ($(id -u app))"
  ok "runs as user app (uid $uid), which owns none of the published files"
fi

# ---- 4. a real request, the probe, sizes, stop -----------------------------------------------------------------------
step "requests"
t=$(date +%s.%N)
code="$(curl -s -o "$tmp/complete.json" -w '%{http_code}' -X POST "$base/complete" -H 'Content-Type: application/json' -H 'Accept: application/json' \
  -d '{"sketch":{"polylines":[[[0,11,23,50,72,96,97,132,158,224,255],[22,9,2,0,26,45,71,40,27,10,9]]]},"temperature":0.5,"seed":3,"samples":2,"max_steps":250}')"
took="$(elapsed "$t")"
[ "$code" = 200 ] || { head -c 2000 "$tmp/complete.json"; echo; fail "POST /complete answered $code"; }
summary="$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const s = r.sketches || [];
  const good = s.length === 2 && s.every(k => Array.isArray(k.strokes) && k.strokes.length > r.prefix_points && k.steps > 0
    && k.strokes.every(p => p.length === 3 && p.every(Number.isFinite)));
  if (!good) { console.error(JSON.stringify(r).slice(0, 2000)); process.exit(1); }
  console.log(`model ${r.model} (condition ${r.condition}): ${s.length} sketches, ${s.map(k => k.strokes.length).join(" and ")} points`
    + ` (${r.prefix_points} given), ${s.map(k => k.steps).join(" + ")} steps, ended by themselves: ${r.stats.ended_by_themselves}, decode ${r.stats.duration_ms} ms`);
' "$tmp/complete.json")" || fail "POST /complete returned no usable sketch"
ok "POST /complete (JSON) in $took: $summary"
code="$(curl -s -o "$tmp/client.js" -w '%{http_code}' "$base/client/sketchservice.js")"
[ "$code" = 200 ] && grep -q 'export class SketchService' "$tmp/client.js" || fail "GET /client/sketchservice.js answered $code without the JavaScript client"
ok "GET /client/sketchservice.js: $(wc -c <"$tmp/client.js") bytes"

probe() { (cd "$tmp/app" && "${as_app[@]}" "${container_env[@]}" dotnet SketchService.Api.dll --probe "$@"); }
t=$(date +%s.%N)
out="$(probe)" || fail "probe mode exited $? against the ready service: $out"
ok "probe (the HEALTHCHECK: dotnet SketchService.Api.dll --probe) exit 0 in $(elapsed "$t"): $out"
rc=0; out="$(probe "http://127.0.0.1:$closed/health/ready")" || rc=$?
[ "$rc" = 1 ] || fail "probe against a closed port exited $rc, not 1: $out"
ok "probe against a closed port: exit 1 ($out)"

step "size"
echo "   published app: $(du -sh "$tmp/app" | cut -f1) ($(du -sh --exclude=models "$tmp/app" | cut -f1) without models/, models/ $(du -sh "$tmp/app/models" | cut -f1))"
(cd "$tmp/app" && du -ah --max-depth=1 . | sort -rh | sed -n '2,6p' | sed 's/^/     /')

step "stop"
t=$(date +%s.%N)
kill -TERM "$server"
rc=0; wait "$server" || rc=$?
server=""
[ "$rc" = 0 ] || { tail -20 "$tmp/server.log"; fail "the service exited $rc on SIGTERM"; }
ok "SIGTERM: exited 0 in $(elapsed "$t")"
# ---- 5. API keys and the management port, as docs/docker.md turns them on ------------------------------------------
step "API keys and a management port (SketchService__ApiKeyHashes, SketchService__ManagementUrls)"
mport="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
key="deploy-check-key"
(cd "$tmp/app" && exec "${as_app[@]}" "${container_env[@]}" "SketchService__ApiKeyHashes=$(printf %s "$key" | sha256sum | cut -d' ' -f1)" \
  "SketchService__ManagementUrls=http://*:$mport" dotnet SketchService.Api.dll >"$tmp/server-keys.log" 2>&1) &
server=$!
t=$(date +%s.%N)
until curl -sf -o /dev/null "$base/health/ready"; do
  kill -0 "$server" 2>/dev/null || { cat "$tmp/server-keys.log"; fail "the service with keys exited before it was ready"; }
  [ "$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { print (b - a > 90) }')" = 0 ] || { tail -30 "$tmp/server-keys.log"; fail "not ready within 90 s"; }
  sleep 0.2
done
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$base/models")" = 401 ] || fail "GET /models without a key did not answer 401"
[ "$(code -H "X-Api-Key: $key" "$base/models")" = 200 ] || fail "GET /models with the key did not answer 200"
[ "$(code -H "Authorization: Bearer $key" "$base/metrics")" = 404 ] || fail "/metrics is still served on the API's port"
[ "$(code "http://127.0.0.1:$mport/metrics")" = 200 ] || fail "/metrics is not served on the management port $mport"
ok "no key: 401; with the key: 200; /metrics: 404 on the API's port, 200 on the management port $mport; ready in $(elapsed "$t")"
kill -TERM "$server"; wait "$server" || true
server=""

# /health/ready answers 503 while the models load, and the service logs that at Error level: expected before ready.
errors="$(grep '\bERR\]\|\bFTL\]' "$tmp/server.log" | grep -v "with message 'loading models'\|HTTP GET /health/ready responded 503" || true)"
[ -z "$errors" ] || { echo "$errors" | head -5; fail "errors in the server log"; }
ok "no errors in the server log (besides $(grep -c 'HTTP GET /health/ready responded 503' "$tmp/server.log" || true) 503s of /health/ready while loading)"

echo "deploy-check: OK, $checks checks in $(( $(date +%s) - start )) s"

# Sourced by the README scripts: serve_api MODELS_DIR PORT LOG starts the built API (Release) on 127.0.0.1:PORT with
# MODELS_DIR as its model folder, sets $api to its pid (the caller's trap kills it) and waits until it is ready.
serve_api() {
  SketchService__ModelsPath="$1" ASPNETCORE_URLS="http://127.0.0.1:$2" \
    dotnet src/SketchService.Api/bin/Release/net10.0/SketchService.Api.dll >"$3" 2>&1 & api=$!
  for _ in $(seq 60); do curl -sf "http://127.0.0.1:$2/health/ready" >/dev/null && return 0; sleep 1; done
  echo "the API on port $2 was not ready after 60 s; its log: $3" >&2
  return 1
}

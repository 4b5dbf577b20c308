#!/usr/bin/env bash
# Checks deploy/kubernetes without a cluster: renders every overlay with `kubectl kustomize` and validates the
# objects against the Kubernetes OpenAPI schemas (npm kubernetes-models, pinned in deploy/kubernetes/check) and
# against the app: probe routes, ports, non-root, read-only root, known SketchService__ settings, drain time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
check="$root/deploy/kubernetes/check"
out="$root/artifacts/kubernetes"
mkdir -p "$out"
command -v kubectl >/dev/null || { echo "k8s-check: kubectl (with kustomize) is needed"; exit 1; }
args=()
for overlay in "$root"/deploy/kubernetes/overlays/*/; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" > "$out/$name.yaml"
  args+=("$name=$out/$name.yaml")
done
(cd "$check" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
node "$check/check.mjs" "${args[@]}"

#!/usr/bin/env bash
# Builds and runs the TorchSharp trainer, through the newer loader where this machine needs it
# (see scripts/torch-loader.sh). Usage: scripts/trainer.sh train --data ... --out ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet build "$root/src/SketchService.Trainer" -c Release -v q -nologo -clp:ErrorsOnly >&2
exec "$("$root/scripts/torch-loader.sh")" "$root/src/SketchService.Trainer/bin/Release/net10.0/sketch-trainer.dll" "$@"

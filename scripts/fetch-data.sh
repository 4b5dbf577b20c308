#!/usr/bin/env bash
# Downloads the shared data that the tests, scripts and README read (Quick Draw drawings, the Sketch-RNN .npz datasets,
# Google's pretrained sketch-rnn-js models) from their public homes into $SKETCH_DATA (default: ../shared beside the
# repository root), in the same layout as the team's shared/ folder. Every file is checked against the size and SHA-256
# in src/SketchService.DataFetch/manifest.json; files already there and right are skipped, so running it again resumes.
#
#   scripts/fetch-data.sh                         # everything into $SKETCH_DATA or ../shared
#   scripts/fetch-data.sh --only models/magenta   # only what starts with that path
#   scripts/fetch-data.sh --check                 # check what is there, download nothing
#   scripts/fetch-data.sh --mirror /path/to/shared  # copy (and check) from another copy of shared/
#   scripts/fetch-data.sh --help
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet build "$root/src/SketchService.DataFetch" -c Release -nologo -v q -clp:ErrorsOnly >&2
exec dotnet "$root/src/SketchService.DataFetch/bin/Release/net10.0/fetch-data.dll" "$@"

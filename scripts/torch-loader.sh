#!/usr/bin/env bash
# Provisions a newer glibc/libstdc++ loader for TorchSharp on machines whose libstdc++ lacks
# GLIBCXX_3.4.32 (Debian 12), and prints the path of a patched `dotnet` that runs TorchSharp code.
#
#   scripts/torch-loader.sh            -> prints the dotnet to use (system dotnet when not needed)
#
# Why: libtorch 2.10 (TorchSharp 0.107) is built against GCC 13's libstdc++. Debian trixie's libc6,
# libstdc++6 and libgcc-s1 are unpacked into .tools/trixie and a copy of the dotnet muxer is given
# that loader with patchelf. The copy lives in a folder of symlinks to the real dotnet root and keeps
# the name `dotnet`, so the host resolver finds the shared framework next to it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
sysdotnet="$(readlink -f "$(command -v dotnet)")"
dotnet_root="$(dirname "$sysdotnet")"

needs_loader() {
  local lib
  lib="$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
  [ -n "$lib" ] || return 1
  ! grep -q GLIBCXX_3.4.32 "$lib"
}

if ! needs_loader; then echo "$sysdotnet"; exit 0; fi

sys="$tools/trixie"
if [ ! -e "$sys/.done" ]; then
  echo "torch-loader: provisioning Debian trixie libc/libstdc++ into $sys" >&2
  command -v patchelf >/dev/null || { apt-get update -qq >&2 && apt-get install -y -qq patchelf >&2; }
  apt="$tools/apt"; rm -rf "$apt"; mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/debs"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n' > "$apt/sources.list"
  opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$apt/lists"
        -o "Dir::Cache::archives=$apt/archives" -o "Dir::State::status=/var/lib/dpkg/status" -o "APT::Get::List-Cleanup=0"
        -o "APT::Sandbox::User=root") # the downloads land in our own folder: no need for apt's _apt sandbox (and its warning)
  apt-get "${opts[@]}" update -qq >&2
  (cd "$apt/debs" && apt-get "${opts[@]}" -qq download libc6 libstdc++6 libgcc-s1 >&2)
  rm -rf "$sys"; mkdir -p "$sys"
  for d in "$apt/debs"/*.deb; do dpkg -x "$d" "$sys"; done
  touch "$sys/.done"
fi

shim="$tools/dotnet-shim"
if [ ! -x "$shim/dotnet" ] || [ "$(cat "$shim/.source" 2>/dev/null)" != "$sysdotnet" ]; then
  rm -rf "$shim"; mkdir -p "$shim"
  for e in "$dotnet_root"/*; do [ "$(basename "$e")" = dotnet ] || ln -s "$e" "$shim/$(basename "$e")"; done
  cp "$sysdotnet" "$shim/dotnet"
  patchelf --set-interpreter "$sys/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$shim/dotnet"
  echo "$sysdotnet" > "$shim/.source"
  # LD_LIBRARY_PATH only for this process: system binaries started under it would crash.
  cat > "$tools/dotnet-torch" <<EOS
#!/bin/sh
LD_LIBRARY_PATH="$sys/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$shim/dotnet" "\$@"
EOS
  chmod +x "$tools/dotnet-torch"
fi
echo "$tools/dotnet-torch"

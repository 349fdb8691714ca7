#!/usr/bin/env bash
# Builds the Node-API prebuilds that `npm pack` ships (prebuilds/ is not
# committed): linux-x64 with the host compiler, linux-arm64 with Debian's cross
# compiler (g++-aarch64-linux-gnu), then checks each file's architecture and
# that it asks for no glibc symbol version above the floor Node.js itself
# needs. Usage: scripts/prebuild.sh [x64] [arm64]   (default: both)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The floor: Node.js 18 and later need glibc 2.28 themselves, so a prebuild
# needing nothing newer loads wherever Node's official binaries run.
GLIBC_FLOOR=2.28
# GCC 8 (RHEL 8's system libstdc++) provides up to GLIBCXX_3.4.25.
GLIBCXX_FLOOR=3.4.25

die() { echo "prebuild: $*" >&2; exit 1; }

# node-gyp needs Node's headers; with no internet they must come from the
# local installation (Debian's and the official tarballs ship include/node).
nodedir=${npm_config_nodedir:-$(node -p 'require("path").resolve(process.execPath, "../..")')}
[ -f "$nodedir/include/node/node_api.h" ] ||
  die "no Node headers in $nodedir/include/node (set npm_config_nodedir to a Node installation with include/node)"
export npm_config_nodedir=$nodedir

# linux-x64 is built with the host's own compiler.
[ "$(uname -m)" = x86_64 ] || die "run this on an x86_64 Linux host (it cross-compiles only arm64)"

prebuildify="$root/node_modules/.bin/prebuildify"
[ -x "$prebuildify" ] || die "prebuildify is missing: run npm ci first"

# Versions above the floor are bound back to older ones by a forced include.
export CPPFLAGS="-include $root/scripts/glibc-floor.h"

# Highest version of a symbol-version family (GLIBC_, GLIBCXX_) a file asks for.
highest() { # objdump file family
  # (none at all is fine: the launcher is C and needs no GLIBCXX_)
  "$1" -T "$2" | { grep -o "($3[0-9.]*)\| $3[0-9.]*" || true; } | tr -d '() ' | sed "s/^$3//" | sort -V | tail -n1
}

check() { # arch file objdump machine-pattern
  local arch=$1 file=$2 objdump=$3 machine=$4 desc glibc glibcxx
  desc=$(file -b "$file")
  grep -q "$machine" <<<"$desc" || die "$file is not $arch: $desc"
  # The launcher is linked statically: no C library to need a version of.
  if grep -q 'statically linked' <<<"$desc"; then
    echo >&2 "prebuild: linux-$arch: $(basename "$file"): ${desc%%,*}, $(grep -o 'ARM aarch64\|x86-64' <<<"$desc"), static"
    return 0
  fi
  glibc=$(highest "$objdump" "$file" GLIBC_)
  glibcxx=$(highest "$objdump" "$file" GLIBCXX_)
  [ "$(printf '%s\n' "$glibc" "$GLIBC_FLOOR" | sort -V | tail -n1)" = "$GLIBC_FLOOR" ] ||
    die "$file needs GLIBC_$glibc, above the floor $GLIBC_FLOOR: $("$objdump" -T "$file" | grep "GLIBC_$glibc" | awk '{print $NF}' | tr '\n' ' ')"
  [ -z "$glibcxx" ] || [ "$(printf '%s\n' "$glibcxx" "$GLIBCXX_FLOOR" | sort -V | tail -n1)" = "$GLIBCXX_FLOOR" ] ||
    die "$file needs GLIBCXX_$glibcxx, above $GLIBCXX_FLOOR"
  echo >&2 "prebuild: linux-$arch: $(basename "$file"): ${desc%%,*}, $(grep -o 'ARM aarch64\|x86-64' <<<"$desc"), needs GLIBC_$glibc${glibcxx:+ GLIBCXX_$glibcxx} (floor $GLIBC_FLOOR)"
}

# Each architecture builds in its own staging copy of the sources, so the
# repository's build/ (the local build the tests use) is never touched, and
# prebuilds/linux-<arch> is replaced only once its file has passed the checks.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

failed() { tail -n 30 "$stage/$1.log" >&2; die "the build for linux-$1 failed (its log ends above)"; }

# The `tsinit` executable (native/launcher.c) is built by the same node-gyp
# run; prebuildify keeps only the .node, so it is copied beside it here, and
# scripts/place-launcher.js installs it as bin/tsinit.
launcher() { # arch strip
  local dir="$stage/$1"
  [ -x "$dir/build/Release/tsinit-launcher" ] || die "the linux-$1 build made no tsinit-launcher"
  cp "$dir/build/Release/tsinit-launcher" "$dir/prebuilds/linux-$1/tsinit-launcher"
  "$2" "$dir/prebuilds/linux-$1/tsinit-launcher"
}

build() { # arch
  local arch=$1 dir="$stage/$1"
  mkdir -p "$dir"
  cp -r package.json binding.gyp native "$dir/"
  ln -s "$root/node_modules" "$dir/node_modules"
  case "$arch" in
    x64)
      "$prebuildify" --napi --strip --tag-libc --arch x64 --cwd "$dir" >"$dir.log" 2>&1 || failed x64
      launcher x64 strip
      check x64 "$dir"/prebuilds/linux-x64/*.node objdump 'x86-64'
      check x64 "$dir"/prebuilds/linux-x64/tsinit-launcher objdump 'x86-64'
      ;;
    arm64)
      command -v aarch64-linux-gnu-g++ >/dev/null ||
        die "no cross compiler: apt-get install g++-aarch64-linux-gnu"
      CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
        "$prebuildify" --napi --strip --tag-libc --arch arm64 --strip-bin aarch64-linux-gnu-strip --cwd "$dir" >"$dir.log" 2>&1 || failed arm64
      launcher arm64 aarch64-linux-gnu-strip
      check arm64 "$dir"/prebuilds/linux-arm64/*.node aarch64-linux-gnu-objdump 'ARM aarch64'
      check arm64 "$dir"/prebuilds/linux-arm64/tsinit-launcher aarch64-linux-gnu-objdump 'ARM aarch64'
      ;;
    *) die "unknown architecture '$arch' (x64, arm64)" ;;
  esac
  mkdir -p prebuilds
  rm -rf "prebuilds/linux-$arch"
  cp -r "$dir/prebuilds/linux-$arch" prebuilds/
}

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x64 arm64)
for arch in "${arches[@]}"; do build "$arch"; done
ls prebuilds/*/* >&2

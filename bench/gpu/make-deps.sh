#!/bin/sh
# make-deps.sh - build .deps/ (git-ignored) for the GPU machine, which lacks
# the libyaml and jansson development files and cmocka: the Debian packages
# are downloaded here with apt-get and unpacked, so that on the device
#   make DEPS_PREFIX=.deps CUDA=1 BUILD=build-dev build-dev/aisp
# finds include/ and lib/ under .deps. Also puts host-built copies of the GPU
# test programs (tests/gpu) in .deps/bin, in case the device cannot build them.
# Pass `carry: [".deps"]` to the device run. Run from the repository root.
set -eu
root=$(pwd)
deps=$root/.deps
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$deps"
mkdir -p "$deps/include" "$deps/lib" "$deps/bin"
(cd "$tmp" && apt-get download libyaml-dev libyaml-0-2 libjansson-dev libjansson4 \
	libcmocka-dev libcmocka0 >/dev/null)
for deb in "$tmp"/*.deb; do
	dpkg -x "$deb" "$tmp/root"
done
cp -a "$tmp/root/usr/include/." "$deps/include/"
cp -a "$tmp/root/usr/lib/x86_64-linux-gnu/." "$deps/lib/"
# pkg-config files relative to where they lie (the device's path differs):
# PKG_CONFIG_PATH=.deps/lib/pkgconfig then finds yaml-0.1 and jansson.
for pc in "$deps"/lib/pkgconfig/*.pc; do
	sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|; s|^libdir=.*|libdir=${prefix}/lib|;
		s|^includedir=.*|includedir=${prefix}/include|' "$pc"
done
# GPU test programs, built here (nvcc 13.0, no GPU needed) as a fallback.
if command -v nvcc >/dev/null 2>&1; then
	sh bench/gpu/build-tests.sh "$deps/bin"
fi
du -sh "$deps"

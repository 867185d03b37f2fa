#!/usr/bin/env bash
# package.sh — builds the Debian package of dsproxy with Debian's tools
# (dpkg-buildpackage, debhelper, the debian/ directory) and prints its path
# as the last line. On a fresh Debian 12 machine it first installs the build
# and packaging tools (scripts/install-deps.sh build package) and builds the
# tree (scripts/build.sh); the package is then made from that build tree
# (debian/rules runs `cmake --install --prefix /usr` on it), nothing is
# compiled again.
#
#   DSPROXY_BUILD_DIR         the build tree (default ./build)
#   DSPROXY_PACKAGE_PREBUILT=1  the tree is built and the tools are there:
#                             package it as it is (the package test in CTest)
#
# The package, its debug symbols and the build log go to $DSPROXY_BUILD_DIR/deb/.
# Install: dpkg -i build/deb/dsproxy_*.deb (README: "Install").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${DSPROXY_BUILD_DIR:-$root/build}")
if [[ ${DSPROXY_PACKAGE_PREBUILT:-0} != 1 ]]; then
    "$root/scripts/install-deps.sh" build package >&2
    DSPROXY_BUILD_DIR=$build "$root/scripts/build.sh" >&2
fi
[ -x "$build/proxy/dsproxy" ] || { echo "package.sh: no dsproxy in $build (build it first)" >&2; exit 1; }

version=$(dpkg-parsechangelog -l "$root/debian/changelog" -SVersion)
project=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
if [ "$version" != "$project" ]; then
    echo "package.sh: debian/changelog says $version, CMakeLists.txt $project: add a changelog entry" >&2
    exit 1
fi

# dpkg-buildpackage writes its results next to the source directory: a
# staging directory in the build tree holds debian/ only (the sources are
# compiled already).
out=$build/deb
rm -rf "$out"
mkdir -p "$out/dsproxy-$version"
cp -r "$root/debian" "$out/dsproxy-$version/debian"
if ! (cd "$out/dsproxy-$version" && DSPROXY_BUILD_DIR=$build dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    echo "package.sh: dpkg-buildpackage failed (log: $out/build.log)" >&2
    exit 1
fi
deb=$(ls "$out"/dsproxy_"$version"_*.deb)
echo "package.sh: built $(basename "$deb") (log: $out/build.log)" >&2
echo "$deb"

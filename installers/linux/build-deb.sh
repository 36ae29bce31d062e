#!/usr/bin/env bash
# The .deb, from the bundle in dist/Openweight (run by build.sh, which sets the variables):
# the program in /opt/openweight, `openweight` in /usr/bin, the menu entry, the icons, the
# software-centre description, and Depends computed from the libraries the bundle loads from
# the system. Install with `sudo apt install ./openweight_<version>_<arch>.deb`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE="installers/linux"
OUT="dist/installers"
: "${VERSION:?}" "${NEEDED:?}" "${NAME:?}"
DEBARCH="$(dpkg --print-architecture)"
DEBVERSION="$VERSION"
case "$NAME" in *-vulkan) DEBVERSION="$VERSION+vulkan" ;; esac
PKG="build/deb/openweight"
DEB="$OUT/openweight_${DEBVERSION}_${DEBARCH}.deb"
echo "==> $DEB"
rm -rf "$PKG"
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
    "$PKG/usr/share/metainfo" "$PKG/usr/share/doc/openweight"
cp -a dist/Openweight "$PKG/opt/openweight"
rm -f "$PKG/opt/openweight/"{install.sh,glibc-guard.sh,openweight.desktop,openweight.png}
ln -s /opt/openweight/openweight "$PKG/usr/bin/openweight"
cp "$HERE/openweight.desktop" "$PKG/usr/share/applications/openweight.desktop"
cp "$HERE/org.openweight.Openweight.metainfo.xml" "$PKG/usr/share/metainfo/"
for size in 16 32 48 64 128 256 512; do
    mkdir -p "$PKG/usr/share/icons/hicolor/${size}x${size}/apps"
    cp "resources/icons/openweight-$size.png" "$PKG/usr/share/icons/hicolor/${size}x${size}/apps/openweight.png"
done
mkdir -p "$PKG/usr/share/icons/hicolor/scalable/apps"
cp resources/icons/openweight.svg "$PKG/usr/share/icons/hicolor/scalable/apps/openweight.svg"
{
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: Openweight"
    echo
    echo "Files: *"
    echo "License: Apache-2.0"
    echo " See /usr/share/common-licenses/Apache-2.0; the bundled third-party software and"
    echo " its licenses are listed in /usr/share/doc/openweight/THIRD_PARTY_NOTICES.md."
} > "$PKG/usr/share/doc/openweight/copyright"
cp desktop/resources/THIRD_PARTY_NOTICES.md "$PKG/usr/share/doc/openweight/"
DEPENDS="$(python3 "$HERE/deb_depends.py" dist/Openweight --glibc "$NEEDED")"
cat > "$PKG/DEBIAN/control" <<CONTROL
Package: openweight
Version: $DEBVERSION
Architecture: $DEBARCH
Maintainer: Openweight developers <openweight@users.noreply.github.com>
Installed-Size: $(du -sk "$PKG" | cut -f1)
Depends: $DEPENDS
Recommends: libvulkan1
Suggests: mesa-vulkan-drivers
Section: utils
Priority: optional
Description: chat privately with open-weight language models on this computer
 Openweight runs open-weight language models (GGUF files) with llama.cpp on
 this computer: no account, no cloud, nothing leaves the machine. It has a
 window and a command line (openweight --help), picks the best code for this
 processor at run time, and uses a Vulkan GPU where a driver is installed.
CONTROL
cat > "$PKG/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
exit 0
POSTINST
chmod 755 "$PKG/DEBIAN/postinst"
cp "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/postrm"
# zstd: xz took over 10 minutes on 2 busy cores; dpkg reads zstd since Debian 12 and Ubuntu 21.10.
dpkg-deb --root-owner-group -Zzstd -z12 --build "$PKG" "$DEB"
dpkg-deb --info "$DEB" | sed -n '/Depends/p'

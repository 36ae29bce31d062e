#!/bin/sh
# Install Openweight for this user only (no root needed): run it from the unpacked folder.
#
#     ./install.sh            # install (or update)
#     ./install.sh --remove   # uninstall; your chats and models stay in ~/.local/share/Openweight
#
# The app goes to ~/.local/opt/Openweight, the `openweight` command to ~/.local/bin, and a
# menu entry with its icon to ~/.local/share.
set -eu

SOURCE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=glibc-guard.sh
. "$SOURCE/glibc-guard.sh"
openweight_glibc_ok || exit 1
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
TARGET="$HOME/.local/opt/Openweight"
BIN="$HOME/.local/bin"

if [ "${1:-}" = "--remove" ]; then
    rm -rf "$TARGET"
    rm -f "$BIN/openweight" "$DATA/applications/openweight.desktop" \
        "$DATA/icons/hicolor/256x256/apps/openweight.png"
    echo "Openweight removed (your chats and models were kept)."
    exit 0
fi

if [ "$SOURCE" != "$TARGET" ]; then
    rm -rf "$TARGET"
    mkdir -p "$(dirname "$TARGET")"
    cp -a "$SOURCE" "$TARGET"
fi
mkdir -p "$BIN" "$DATA/applications" "$DATA/icons/hicolor/256x256/apps"
ln -sf "$TARGET/openweight" "$BIN/openweight"
cp "$TARGET/openweight.png" "$DATA/icons/hicolor/256x256/apps/openweight.png"
# The menu entry names the program by its full path: ~/.local/bin is not always on PATH.
sed "s|^Exec=openweight|Exec=$TARGET/openweight|" "$TARGET/openweight.desktop" \
    > "$DATA/applications/openweight.desktop"
command -v update-desktop-database >/dev/null 2>&1 \
    && update-desktop-database -q "$DATA/applications" || true
echo "Openweight installed: find it in your applications menu, or run $BIN/openweight"

#!/usr/bin/env bash
# Build Openweight for macOS: dist/Openweight.app and a drag-to-Applications disk image,
# dist/installers/Openweight-<version>-macos-<arch>.dmg. Run on a Mac (the .app is built
# for the machine's own architecture: build on Apple silicon for arm64, on Intel for x86_64).
#
#     installers/macos/build.sh              # uses .venv/bin/python (make run/test create it)
#     PYTHON=/path/to/python installers/macos/build.sh
#
# Signing and notarization happen only when their settings are present; without them the
# app is signed ad hoc, runs on the Mac that built it, and other Macs' Gatekeeper asks the
# user to allow it (right-click > Open). The settings:
#   OPENWEIGHT_CODESIGN_IDENTITY  "Developer ID Application: Your Name (TEAMID)", from your
#                                 keychain (`security find-identity -v -p codesigning`)
#   OPENWEIGHT_NOTARY_PROFILE     a notarytool keychain profile, made once with
#                                 `xcrun notarytool store-credentials`; or instead all of
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD  (an app-specific password for that Apple ID)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
OUT="dist/installers"
VERSION="$("$PYTHON" -c 'import desktop; print(desktop.__version__)')"
ARCH="$(uname -m)"
NAME="Openweight-$VERSION-macos-$ARCH"
APP="dist/Openweight.app"
IDENTITY="${OPENWEIGHT_CODESIGN_IDENTITY:-}"

echo "==> PyInstaller bundle (Openweight $VERSION, $ARCH)"
"$PYTHON" -m pip install --quiet "pyinstaller>=6.10"
# The spec reads OPENWEIGHT_CODESIGN_IDENTITY and signs every binary with the hardened runtime.
"$PYTHON" -m PyInstaller installers/openweight.spec --noconfirm --distpath dist \
    --workpath build/pyinstaller
"$APP/Contents/MacOS/Openweight" --version
codesign --verify --deep --strict "$APP"

# Notarization settings, if any: a keychain profile, or an Apple ID with its team.
# (A flag besides the array: macOS's bash 3.2 rejects "${empty[@]}" under `set -u`.)
NOTARY=(none)
CAN_NOTARIZE=no
if [ -n "$IDENTITY" ] && [ -n "${OPENWEIGHT_NOTARY_PROFILE:-}" ]; then
    NOTARY=(--keychain-profile "$OPENWEIGHT_NOTARY_PROFILE")
    CAN_NOTARIZE=yes
elif [ -n "$IDENTITY" ] && [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] \
        && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    NOTARY=(--apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" --password "$APPLE_APP_PASSWORD")
    CAN_NOTARIZE=yes
fi
notarize() {  # submit a file (zip or dmg) to Apple and wait for the verdict
    echo "==> notarizing $1 (this takes a few minutes)"
    xcrun notarytool submit "$1" "${NOTARY[@]}" --wait
}

# Staple the ticket to the app itself: Gatekeeper then accepts it even on a Mac that is
# offline the first time it opens the app (which, for this app, is a likely case).
if [ "$CAN_NOTARIZE" = yes ]; then
    ditto -c -k --keepParent "$APP" build/Openweight-notarize.zip
    notarize build/Openweight-notarize.zip
    xcrun stapler staple "$APP"
    rm -f build/Openweight-notarize.zip
fi

echo "==> $OUT/$NAME.dmg"
mkdir -p "$OUT"
STAGE="build/dmg"
rm -rf "$STAGE" "$OUT/$NAME.dmg"
mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"  # drag the app onto this
hdiutil create -volname "Openweight" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov \
    "$OUT/$NAME.dmg"
rm -rf "$STAGE"

if [ -z "$IDENTITY" ]; then
    echo "==> done, signed ad hoc only (OPENWEIGHT_CODESIGN_IDENTITY unset): $OUT/$NAME.dmg"
    exit 0
fi
codesign --force --timestamp --sign "$IDENTITY" "$OUT/$NAME.dmg"
if [ "$CAN_NOTARIZE" = no ]; then
    echo "==> done, signed but not notarized (no notarization settings): $OUT/$NAME.dmg"
    exit 0
fi
notarize "$OUT/$NAME.dmg"
xcrun stapler staple "$OUT/$NAME.dmg"
echo "==> done, signed, notarized and stapled: $OUT/$NAME.dmg"

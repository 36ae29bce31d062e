# shellcheck shell=sh
# Sourced by the launchers (AppRun, install.sh): refuse, in words, to start on a glibc older
# than the bundle needs, instead of the loader's "version `GLIBC_2.xx' not found". The build
# writes the floor into GLIBC_NEEDED below (installers/linux/check_glibc.py measures it).
GLIBC_NEEDED="@GLIBC_NEEDED@"
openweight_glibc_ok() {
    have="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
    [ -z "$have" ] && return 0  # not glibc (or unknown): let the loader decide
    [ "$(printf '%s\n%s\n' "$GLIBC_NEEDED" "$have" | sort -V | head -n1)" = "$GLIBC_NEEDED" ] && return 0
    message="Openweight needs a Linux system with glibc $GLIBC_NEEDED or newer; this system has glibc $have. Please update the system, or use an Openweight build made for it."
    echo "openweight: $message" >&2
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ ! -t 2 ]; then
        if command -v zenity >/dev/null 2>&1; then zenity --error --title=Openweight --text="$message"
        elif command -v kdialog >/dev/null 2>&1; then kdialog --title Openweight --error "$message"
        elif command -v xmessage >/dev/null 2>&1; then xmessage -center "$message"; fi
    fi
    return 1
}

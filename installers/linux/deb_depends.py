#!/usr/bin/env python3
"""The Debian packages a bundle's ELF files load from the system, for a .deb's Depends.

    python3 installers/linux/deb_depends.py dist/Openweight --glibc 2.35

Runs ldd on every ELF file with the bundle's own folders searched first, so only libraries
the bundle does not carry remain; `dpkg -S` names the package of each. The result is one
comma-separated Depends line (libc6 with the minimum version the bundle needs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

# Never named directly: glibc's own libraries (libc6 carries them, with a version below).
GLIBC_LIBS = ("libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so", "libutil.so",
              "ld-linux", "libresolv.so", "libnsl.so", "libanl.so")
# Loaded only where the user has a GPU driver: a recommendation, not a dependency.
OPTIONAL = {"libvulkan.so.1"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--glibc", required=True)
    args = parser.parse_args()
    bundle = args.bundle.resolve()
    elves = []
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    elves.append(path)
    folders = sorted({str(p.parent) for p in elves})
    env = {"LD_LIBRARY_PATH": ":".join(folders), "PATH": "/usr/bin:/bin"}
    system_libs: dict[str, str] = {}
    for path in elves:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
        for line in out.splitlines():
            if "=>" not in line:
                continue
            name, _, target = line.strip().partition(" => ")
            target = target.split(" (")[0].strip()
            if not target.startswith("/") or target.startswith(str(bundle)):
                continue
            if name.startswith(GLIBC_LIBS) or name in OPTIONAL:
                continue
            system_libs[name] = target
    packages = set()
    for name, target in sorted(system_libs.items()):
        owner = subprocess.run(["dpkg", "-S", target], capture_output=True, text=True)
        if owner.returncode != 0:
            real = str(Path(target).resolve())
            owner = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True)
        if owner.returncode != 0:
            print(f"warning: no package owns {target} ({name})", file=sys.stderr)
            continue
        package = owner.stdout.split(":")[0].strip()
        packages.add(package)
        print(f"  {name}: {package}", file=sys.stderr)
    print(", ".join([f"libc6 (>= {args.glibc})", *sorted(packages)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

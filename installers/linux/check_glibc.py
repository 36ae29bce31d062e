#!/usr/bin/env python3
"""Read the highest GLIBC symbol version any ELF file in a bundle needs; fail above the floor.

    python3 installers/linux/check_glibc.py dist/Openweight            # floor from GLIBC_FLOOR
    python3 installers/linux/check_glibc.py dist/Openweight --floor 2.35

A program runs only on a glibc at least as new as every version its files ask for (their
.gnu.version_r entries); the floor is the oldest glibc we promise to support (README:
Linux requirements). Prints the highest version and the files that need it. Needs readelf
(binutils).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

DEFAULT_FLOOR = "2.35"  # Ubuntu 22.04, Debian 12 and newer; see installers/README.md
# The C++ runtime is the user's own (the spec leaves libstdc++ out): GCC 12's, as on Ubuntu
# 22.04 and Debian 12, provides GLIBCXX up to 3.4.30.
GLIBCXX_FLOOR = "3.4.30"
ELF_MAGIC = b"\x7fELF"


def version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def elf_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == ELF_MAGIC:
                    found.append(path)
    return found


def needed_versions(path: Path, library: str = "GLIBC") -> set[str]:
    out = subprocess.run(["readelf", "-V", "--wide", str(path)], capture_output=True,
                         text=True, check=False).stdout
    # Only the "needs" section (.gnu.version_r) matters, not what a file itself defines.
    needs = out.split(".gnu.version_r", 1)[1] if ".gnu.version_r" in out else ""
    return set(re.findall(rf"Name: {library}_([0-9.]+)", needs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--floor", default=None, help=f"highest allowed (default {DEFAULT_FLOOR})")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import os

    floor = args.floor or os.environ.get("GLIBC_FLOOR") or DEFAULT_FLOOR
    by_version: dict[str, list[str]] = {}
    files = elf_files(args.bundle)
    cxx: dict[str, list[str]] = {}
    for path in files:
        for version in needed_versions(path):
            by_version.setdefault(version, []).append(str(path.relative_to(args.bundle)))
        for version in needed_versions(path, "GLIBCXX"):
            cxx.setdefault(version, []).append(str(path.relative_to(args.bundle)))
    cxx_over = sorted(v for v in cxx if version_key(v) > version_key(GLIBCXX_FLOOR))
    if cxx_over:
        print(f"FAIL: the bundle needs a C++ runtime newer than GLIBCXX_{GLIBCXX_FLOOR}: "
              f"{', '.join(cxx_over)}", file=sys.stderr)
        return 1
    if not by_version:
        print(f"no ELF file in {args.bundle} needs glibc", file=sys.stderr)
        return 1
    highest = max(by_version, key=version_key)
    over = {v: sorted(f) for v, f in by_version.items() if version_key(v) > version_key(floor)}
    if args.json:
        print(json.dumps({"highest": highest, "floor": floor, "elf_files": len(files),
                          "needing_highest": sorted(by_version[highest]), "over_floor": over}))
    else:
        highest_cxx = max(cxx, key=version_key) if cxx else "none"
        print(f"{len(files)} ELF files; highest glibc needed: {highest} (floor {floor}); "
              f"C++ runtime: GLIBCXX_{highest_cxx} (floor {GLIBCXX_FLOOR})")
        for name in sorted(by_version[highest])[:10]:
            print(f"  GLIBC_{highest}: {name}")
    if over:
        print(f"FAIL: the bundle needs a glibc newer than {floor}: "
              + ", ".join(f"{v} ({len(f)} files)" for v, f in sorted(over.items())), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

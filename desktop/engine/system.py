"""Facts about this computer that the engine needs without importing llama.cpp."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def physical_cores() -> int:
    """Physical cores (hyper-threads slow llama.cpp's generation down), at least 1."""
    logical = os.cpu_count() or 1
    if sys.platform.startswith("linux"):
        try:
            cores: set[tuple[str, str]] = set()
            physical = core = ""
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "physical id":
                    physical = value
                elif key == "core id":
                    core = value
                elif not key and core:
                    cores.add((physical, core))
                    core = ""
            if core:
                cores.add((physical, core))
            if cores:
                return max(1, min(len(cores), logical))
        except OSError:
            pass
    elif sys.platform == "darwin":
        try:
            import subprocess

            out = subprocess.run(
                ["sysctl", "-n", "hw.perflevel0.physicalcpu"], capture_output=True, text=True,
                timeout=2,
            ).stdout.strip()
            if out.isdigit():
                return max(1, int(out))
        except (OSError, subprocess.SubprocessError):
            pass
    return max(1, logical // 2) if logical >= 4 else logical


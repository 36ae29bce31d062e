"""llama.cpp's own `llama-bench`, built from the llama.cpp source vendored in the installed
llama-cpp-python's source distribution, so "native" means the same code the app runs.

Everything lives under bench/.build/ (git-ignored):
  llama_cpp_python-<version>.tar.gz   the sdist (pip download, or a copy you put there)
  src/llama_cpp_python-<version>/     the extracted sdist
  llama-bench-<version>/              the CMake build folder; bin/llama-bench is the binary
  llama-bench-<version>.json          how and when it was built, and how long it took
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

BUILD_ROOT = Path(__file__).resolve().parent / ".build"
CMAKE_OPTIONS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    # llama-cpp-python builds shared libraries with the same defaults otherwise
    # (GGML_NATIVE on, OpenMP on), so the kernels match the installed wheel's.
    "-DBUILD_SHARED_LIBS=ON",
]
# llama-server: the same kernels, with the server (and its tools folder) switched on.
SERVER_CMAKE_OPTIONS = [
    o for o in CMAKE_OPTIONS if o != "-DLLAMA_BUILD_SERVER=OFF"
] + ["-DLLAMA_BUILD_SERVER=ON", "-DLLAMA_BUILD_TOOLS=ON", "-DLLAMA_OPENSSL=OFF"]


def installed_version() -> str:
    return importlib.metadata.version("llama-cpp-python")


def binary_path(version: str | None = None) -> Path:
    version = version or installed_version()
    return BUILD_ROOT / f"llama-bench-{version}" / "bin" / "llama-bench"


def build_record(version: str | None = None, target: str = "llama-bench") -> dict[str, Any]:
    version = version or installed_version()
    path = BUILD_ROOT / f"{target}-{version}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return {}


def _say(message: str) -> None:
    print(f"[llama-bench] {message}", flush=True)


def source_dir(version: str, sdist: Path | None = None) -> Path:
    """The vendored llama.cpp tree of llama-cpp-python==version, fetched if need be."""
    extracted = BUILD_ROOT / "src" / f"llama_cpp_python-{version}"
    tree = extracted / "vendor" / "llama.cpp"
    if (tree / "CMakeLists.txt").is_file():
        return tree
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    archive = sdist or _find_sdist(version)
    if archive is None:
        _say(f"downloading the llama-cpp-python {version} source distribution with pip")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"llama-cpp-python=={version}",
                "-d",
                str(BUILD_ROOT),
            ],
            check=True,
        )
        archive = _find_sdist(version)
        if archive is None:
            raise RuntimeError(
                f"pip did not leave an sdist of llama-cpp-python {version} in {BUILD_ROOT}"
            )
    if archive.is_dir():  # an already-extracted sdist
        tree = archive / "vendor" / "llama.cpp"
        if not (tree / "CMakeLists.txt").is_file():
            raise RuntimeError(f"{archive} holds no vendor/llama.cpp")
        return tree
    _say(f"extracting {archive.name}")
    (BUILD_ROOT / "src").mkdir(exist_ok=True)
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(BUILD_ROOT / "src", filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            tar.extractall(BUILD_ROOT / "src")  # noqa: S202
    if not (tree / "CMakeLists.txt").is_file():
        raise RuntimeError(f"{archive.name} did not hold vendor/llama.cpp")
    return tree


def _find_sdist(version: str) -> Path | None:
    env = os.environ.get("LLAMA_CPP_SDIST")
    candidates = [Path(env)] if env else []
    # bench/.build, or where the installers' build keeps the same source (build/sdist)
    for folder in (BUILD_ROOT, BUILD_ROOT.parent.parent / "build" / "sdist"):
        for name in (f"llama_cpp_python-{version}.tar.gz", f"llama-cpp-python-{version}.tar.gz"):
            candidates.append(folder / name)
        candidates.append(folder / f"llama_cpp_python-{version}")
    return next((c for c in candidates if c.exists()), None)


def ensure_built(
    version: str | None = None,
    jobs: int | None = None,
    sdist: Path | None = None,
    target: str = "llama-bench",
) -> Path:
    """Return the binary for a llama.cpp target (llama-bench, llama-server), configuring and
    building it on first use; each target has its own build folder."""
    version = version or installed_version()
    binary = BUILD_ROOT / f"{target}-{version}" / "bin" / target
    if binary.is_file():
        return binary
    options = CMAKE_OPTIONS if target != "llama-server" else SERVER_CMAKE_OPTIONS
    if shutil.which("cmake") is None:
        raise RuntimeError(
            f"cmake is needed to build {target} (apt install cmake, or pip install cmake)"
        )
    tree = source_dir(version, sdist)
    build_dir = binary.parent.parent
    jobs = jobs or os.cpu_count() or 1
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    started = time.monotonic()
    _say(f"configuring llama.cpp from {tree} (build folder {build_dir})")
    subprocess.run(
        ["cmake", "-S", str(tree), "-B", str(build_dir), *generator, *options],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _say(
        f"building the {target} target with {jobs} jobs; this takes several minutes "
        "on a small machine"
    )
    proc = subprocess.Popen(
        ["cmake", "--build", str(build_dir), "--target", target, "-j", str(jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    tail: list[str] = []
    last_report = 0.0
    for line in proc.stdout:
        tail = (tail + [line.rstrip()])[-30:]
        step = re.match(r"\[(\d+)/(\d+)\]", line) or re.match(r"\[\s*(\d+)%\]", line)
        if step and time.monotonic() - last_report > 15:
            last_report = time.monotonic()
            done = (
                f"{step.group(1)}/{step.group(2)}" if step.lastindex == 2 else f"{step.group(1)}%"
            )
            _say(f"  {done} after {time.monotonic() - started:.0f} s")
    if proc.wait() != 0 or not binary.is_file():
        print("\n".join(tail), file=sys.stderr)
        raise RuntimeError(f"building {target} failed (see the lines above)")
    elapsed = time.monotonic() - started
    _say(f"built {binary} in {elapsed:.0f} s")
    record = {
        "version": version,
        "build_seconds": round(elapsed, 1),
        "jobs": jobs,
        "cmake_options": options,
        "source": str(tree),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (BUILD_ROOT / f"{target}-{version}.json").write_text(json.dumps(record, indent=2))
    return binary


def run_test(
    binary: Path,
    model: Path,
    threads: int,
    *,
    n_prompt: int = 0,
    n_gen: int = 0,
    depth: int = 0,
    repetitions: int = 2,
    flash_attn: str = "on",
    batch: int = 512,
) -> dict[str, Any]:
    """One llama-bench test (pp: n_prompt > 0, tg: n_gen > 0), parsed from its -o json row.

    The batch sizes match the app's (n_batch = n_ubatch = 512); avg_ts is tokens/s.
    """
    cmd = [
        str(binary),
        "-m",
        str(model),
        "-t",
        str(threads),
        "-p",
        str(n_prompt),
        "-n",
        str(n_gen),
        "-d",
        str(depth),
        "-b",
        str(batch),
        "-ub",
        str(batch),
        "-r",
        str(repetitions),
        "-fa",
        flash_attn,
        "-o",
        "json",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"llama-bench failed ({done.returncode}): {done.stderr[-2000:]}")
    rows = json.loads(done.stdout)
    match = [r for r in rows if r.get("n_gen") == n_gen and r.get("n_prompt") == n_prompt]
    if not match:
        raise RuntimeError(f"llama-bench printed no matching row: {done.stdout[:500]}")
    row: dict[str, Any] = match[0]
    row["command"] = " ".join(cmd)
    return row


def run_tg(
    binary: Path,
    model: Path,
    threads: int,
    n_gen: int,
    *,
    depth: int = 0,
    repetitions: int = 2,
    flash_attn: str = "on",
) -> dict[str, Any]:
    """llama-bench's `tg` test: decode n_gen tokens one at a time after depth tokens."""
    return run_test(
        binary,
        model,
        threads,
        n_gen=n_gen,
        depth=depth,
        repetitions=repetitions,
        flash_attn=flash_attn,
    )

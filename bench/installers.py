"""Installer figures: sizes, start-up of the installed app, generation speed of the bundle
against the development build, the CPU module llama.cpp picks under emulated processors,
and GPU offload on Vulkan (lavapipe without a GPU).

    .venv/bin/python bench/installers.py --installed /usr/bin/openweight \
        [--vulkan-bundle build/vulkan-bundle/openweight]

Needs a built bundle (installers/linux/build.sh) and the test model. Writes
bench/results/installers.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
QUESTION = "What is the capital of France?"
STORY = "Write a long story about a lighthouse keeper and a storm."
QEMU_CPUS = ["Haswell", "Nehalem", "core2duo"]


def test_model() -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.helpers import test_model_path as find_model

    return Path(find_model())


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    drop = {"OPENWEIGHT_HOME", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "QT_PLUGIN_PATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, **(extra or {})}


def run(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(env),
        cwd=tempfile.gettempdir(),
    )


def ask(
    argv: list[str],
    data: Path,
    question: str,
    max_tokens: int,
    env: dict[str, str] | None = None,
    json_lines: bool = False,
) -> subprocess.CompletedProcess[str]:
    """One question to the app's CLI at temperature 0."""
    options = ["--temperature", "0", "--max-tokens", str(max_tokens)] + (
        ["--json"] if json_lines else []
    )
    return run([*argv, "--data-dir", str(data), "chat", *options, question], env)


def sizes() -> dict[str, Any]:
    out: dict[str, Any] = {}
    folder = ROOT / "dist" / "installers"
    for path in sorted(folder.glob("*")):
        out[path.name] = {"bytes": path.stat().st_size, "MB": round(path.stat().st_size / 1e6, 1)}
    bundle = ROOT / "dist" / "Openweight"
    if bundle.is_dir():
        total = sum(
            p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()
        )
        out["dist/Openweight (unpacked bundle)"] = {"bytes": total, "MB": round(total / 1e6, 1)}
    return out


def evict(folder: Path) -> None:
    """Drop this folder's files from the page cache (a cold start without touching others')."""
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def start_to_window(exe: str, data: Path, cold: bool) -> float:
    log_file = data / "logs" / "openweight.log"
    if log_file.exists():
        log_file.unlink()
    if cold:
        evict(Path(os.path.realpath(exe)).parent)
    started = time.perf_counter()
    app = subprocess.Popen(
        [exe, "--data-dir", str(data)],
        env=clean_env({"QT_QPA_PLATFORM": "offscreen"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < 120:
            if log_file.is_file() and "window shown" in log_file.read_text(
                "utf-8", errors="replace"
            ):
                return time.perf_counter() - started
            time.sleep(0.01)
        raise RuntimeError("the window did not appear")
    finally:
        app.terminate()
        app.wait(timeout=30)


def tokens_per_s(
    argv: list[str], data: Path, env: dict[str, str] | None = None, max_tokens: int = 128
) -> float:
    chat = ask(argv, data, STORY, max_tokens, env, json_lines=True)
    if chat.returncode != 0:
        raise RuntimeError(chat.stderr)
    final = json.loads(chat.stdout.splitlines()[-1])
    return float(final["stats"]["tokens_per_s"])


def info(argv: list[str], data: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run([*argv, "--data-dir", str(data), "info", "--json"], env)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout)["engine"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--installed",
        default=str(ROOT / "dist" / "Openweight" / "openweight"),
        help="the installed executable (e.g. /usr/bin/openweight)",
    )
    parser.add_argument("--vulkan-bundle", help="the executable of a bundle built with --vulkan")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-qemu", action="store_true")
    args = parser.parse_args()
    exe = args.installed
    dev = [sys.executable, "-m", "desktop"]
    model = test_model()
    result: dict[str, Any] = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
        "installer_sizes": sizes(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "profile"
        imported = run([exe, "--data-dir", str(data), "models", "import", str(model)])
        assert imported.returncode == 0, imported.stderr

        cold = [start_to_window(exe, data, cold=True) for _ in range(args.rounds)]
        warm = [start_to_window(exe, data, cold=False) for _ in range(args.rounds)]
        result["start_to_window_s"] = {
            "executable": exe,
            "cold_median": round(statistics.median(cold), 3),
            "warm_median": round(statistics.median(warm), 3),
            "cold": [round(v, 3) for v in cold],
            "warm": [round(v, 3) for v in warm],
        }

        # The development build gets its own profile: its database may be a newer version.
        dev_data = Path(tmp) / "dev-profile"
        run([*dev, "--data-dir", str(dev_data), "models", "import", str(model)])
        bundle_tps, dev_tps = [], []
        for _ in range(args.rounds):  # interleaved: the machine is shared
            bundle_tps.append(tokens_per_s([exe], data))
            dev_tps.append(tokens_per_s(dev, dev_data))
        ratio = statistics.median(bundle_tps) / statistics.median(dev_tps)
        result["generation_tokens_per_s"] = {
            "bundle": [round(v, 1) for v in bundle_tps],
            "development": [round(v, 1) for v in dev_tps],
            "bundle_median": round(statistics.median(bundle_tps), 1),
            "development_median": round(statistics.median(dev_tps), 1),
            "ratio": round(ratio, 3),
            "bundle_cpu_code": info([exe], data)["backends"]["cpu_variant"],
            "development_cpu_code": info(dev, dev_data)["backends"]["cpu_variant"],
        }

        if not args.skip_qemu and shutil.which("qemu-x86_64") and platform.machine() == "x86_64":
            picks = {}
            for cpu in QEMU_CPUS:
                under = {"OPENWEIGHT_HOST_PREFIX": f"qemu-x86_64 -cpu {cpu}"}
                engine = info([exe], data, under)
                if "backends" not in engine:  # the engine host could not start on this CPU
                    picks[cpu] = {"picked": None, "error": engine.get("error", str(engine))[:400]}
                    continue
                chat = ask([exe], data, QUESTION, 12, under)
                picks[cpu] = {
                    "picked": engine["backends"]["cpu_variant"],
                    "features": engine["backends"]["cpu_features"],
                    "answered_paris": "Paris" in chat.stdout,
                }
            result["qemu_cpu_models"] = picks
            result["native_cpu_code"] = info([exe], data)["backends"]["cpu_variant"]

        if args.vulkan_bundle:
            env = {"GGML_VK_VISIBLE_DEVICES": "0"}
            engine = info([args.vulkan_bundle], data, env)
            chat = ask([args.vulkan_bundle], data, QUESTION, 32, env, json_lines=True)
            events = [json.loads(line) for line in chat.stdout.splitlines()]
            small = ask(
                [args.vulkan_bundle],
                data,
                QUESTION,
                12,
                {
                    **env,
                    "GGML_VK_FORCE_MAX_BUFFER_SIZE": "1048576",
                    "GGML_VK_FORCE_MAX_ALLOCATION_SIZE": "1048576",
                },
                json_lines=True,
            )
            small_events = [json.loads(line) for line in small.stdout.splitlines()]
            result["vulkan_lavapipe"] = {
                "devices": [
                    f"{d['name']}: {d['description']} ({d['kind']})"
                    for d in engine["backends"]["devices"]
                ],
                "loaded": events[0] if events else chat.stderr[-500:],
                "answer": "".join(e.get("answer", "") for e in events),
                "tokens_per_s": events[-1].get("stats", {}).get("tokens_per_s") if events else None,
                "fallback_with_1MB_device_buffers": small_events[0]
                if small_events
                else small.stderr[-500:],
                "fallback_answer": "".join(e.get("answer", "") for e in small_events),
            }

    RESULTS.mkdir(parents=True, exist_ok=True)
    saved = RESULTS / "installers.json"
    if not args.vulkan_bundle and saved.exists():
        # The Vulkan bundle takes its own ten-minute build: a run without one keeps the last
        # Vulkan figures, marked as coming from an earlier run.
        earlier = json.loads(saved.read_text()).get("vulkan_lavapipe")
        if earlier:
            result["vulkan_lavapipe"] = {**earlier, "from_an_earlier_run": True}
    saved.write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Installers", "", "| installer | MB |", "|---|---|"]
    lines += [f"| {name} | {v['MB']} |" for name, v in result["installer_sizes"].items()]
    s = result["start_to_window_s"]
    g = result["generation_tokens_per_s"]
    lines += [
        "",
        f"Start to window ({s['executable']}): cold {s['cold_median']} s, warm {s['warm_median']} s",
        "",
        f"Generation: bundle {g['bundle_median']} tokens/s ({g['bundle_cpu_code']}), development "
        f"{g['development_median']} tokens/s ({g['development_cpu_code']}): {g['ratio']}x",
        "",
    ]
    if "qemu_cpu_models" in result:
        lines += ["| qemu -cpu | CPU module picked | answered |", "|---|---|---|"]
        lines += [
            f"| {cpu} | {v['picked']} | {v.get('answered_paris', v.get('error'))} |"
            for cpu, v in result["qemu_cpu_models"].items()
        ]
    if "vulkan_lavapipe" in result:
        v = result["vulkan_lavapipe"]
        earlier = " (from an earlier run)" if v.get("from_an_earlier_run") else ""
        lines += [
            "",
            f"Vulkan on lavapipe{earlier}: {v['loaded'].get('device') if isinstance(v['loaded'], dict) else v['loaded']}, "
            f"answer {v['answer']!r} at {v['tokens_per_s']} tokens/s; with 1 MB device buffers: "
            f"{v['fallback_with_1MB_device_buffers'].get('device') if isinstance(v['fallback_with_1MB_device_buffers'], dict) else '?'}, "
            f"answer {v['fallback_answer']!r}",
        ]
    (RESULTS / "installers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

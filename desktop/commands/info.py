"""`openweight info`: versions, llama.cpp's view of this machine, and where data lives."""

from __future__ import annotations

import argparse
import platform
import sys
import textwrap
from typing import Any

from desktop import __version__
from desktop.commands.common import add_common, paths_for, print_json


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("info", help="versions, acceleration backend and data folders")
    add_common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from desktop.engine.client import EngineClient, EngineCrashed

    paths = paths_for(args)
    client = EngineClient()
    try:
        engine = client.info()["info"]
    except EngineCrashed as exc:
        engine = {"error": str(exc)}
    finally:
        client.close()
    from desktop.library.network import NETWORK_USE

    data: dict[str, Any] = {
        "openweight": __version__,
        "network": NETWORK_USE,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "engine": engine,
        "paths": {
            "data": str(paths.data_dir),
            "database": str(paths.database),
            "models": str(paths.models_dir),
            "logs": str(paths.logs_dir),
            "cache": str(paths.cache_dir),
        },
    }
    if args.json:
        print_json(data)
        return 0
    print(f"Openweight {__version__} (Python {data['python']}, {data['platform']})")
    if "error" in engine:
        print(f"Engine: {engine['error']}")
    else:
        backend = "GPU offload available" if engine["gpu_offload"] else "CPU only"
        print(f"llama-cpp-python {engine['llama_cpp_python']}: {backend}")
        if engine.get("devices"):
            print(f"Devices: {', '.join(engine['devices'])}")
        print(f"Physical cores: {engine['physical_cores']}")
        backends = engine.get("backends") or {}
        if backends:
            features = " ".join(backends.get("cpu_features") or []) or "no vector instructions"
            print(f"CPU code: {backends['cpu_variant']} ({features})")
            for device in backends.get("devices") or []:
                memory = f", {device['memory_free'] / 2**30:.1f} of {device['memory_total'] / 2**30:.1f} GiB free" \
                    if device.get("memory_total") and device["kind"] != "CPU" else ""
                print(f"Device {device['name']}: {device['description']} ({device['kind']}{memory})")
        print(f"llama.cpp: {engine['system_info']}")
    for key, value in data["paths"].items():
        print(f"{key.capitalize():>9}: {value}")
    print(textwrap.fill(NETWORK_USE, width=90, initial_indent="  Network: ",
                        subsequent_indent=" " * 11))
    return 0

"""Run the loopback Hub on its own: python -m tests.fakehub --port 0 [--throttle BPS].

Prints the Hub's URL on the first line of stdout, then serves until interrupted or killed.
GET /_fakehub/requests returns the request log; POST /_fakehub/faults (JSON) changes faults.
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.fakehub.server import FakeHub


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakehub")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--throttle", type=int, default=None, help="bytes per second")
    parser.add_argument("--ignore-range", action="store_true")
    parser.add_argument(
        "--drop-after", type=int, default=None, help="drop the first download after N bytes"
    )
    args = parser.parse_args(argv)
    hub = FakeHub().start(args.port)
    hub.faults.throttle_bps = args.throttle
    hub.faults.ignore_range = args.ignore_range
    if args.drop_after is not None:
        hub.faults.drop_after, hub.faults.drop_times = args.drop_after, 1
    print(hub.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

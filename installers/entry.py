"""The frozen app's entry point (PyInstaller runs this file; `python -m desktop` is the same).

It also serves as the engine host: desktop/engine/client.py starts `<this exe> --engine-host`
when frozen, and desktop.cli.main hands that over to desktop.engine.host.
"""

import os
import sys

# A windowed app on Windows starts without stdout/stderr (they are None); code that writes
# to them (error messages, logging's last-resort handler) must not fail because of it.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115

if sys.argv[1:2] == ["--engine-host"]:
    # Straight to the host, skipping the command-line modules desktop.cli imports: every
    # model load starts a host, so its start-up time is the user's waiting time.
    from desktop.engine.host import main as host_main

    raise SystemExit(host_main())

from desktop.cli import main  # noqa: E402

raise SystemExit(main())

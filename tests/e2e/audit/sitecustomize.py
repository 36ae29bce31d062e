"""Put on PYTHONPATH by the privacy tests: every Python process of the app (the CLI, the
window, each engine host, which inherits PYTHONPATH) records each network attempt, and
refuses any that would leave the computer.

One JSON line per event goes to the file named by OPENWEIGHT_AUDIT_LOG.
"""

import json
import os
import sys

_LOG = os.environ.get("OPENWEIGHT_AUDIT_LOG")
_EVENTS = {
    "socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
    "socket.gethostbyaddr", "socket.getnameinfo",
}


def _write(record):
    record["pid"] = os.getpid()
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, default=repr) + "\n")


def _hook(event, args):
    if event not in _EVENTS:
        return
    record = {"event": event}
    if event == "socket.__new__":
        record["family"] = int(args[1]) if isinstance(args[1], int) else repr(args[1])
    elif event in ("socket.connect", "socket.bind", "socket.sendto"):
        sock, address = args[0], args[-1]
        record["family"] = int(getattr(sock, "family", -1))
        record["address"] = address if isinstance(address, (str, bytes)) else list(address)
    elif event == "socket.getaddrinfo":
        record["address"] = [args[0], args[1]]
    else:
        record["address"] = [repr(a) for a in args]
    _write(record)
    if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto") and not _local(record):
        # Recorded, then refused: even an app that misbehaves sends nothing out during a test.
        raise PermissionError(f"blocked by the privacy test: {event} {record.get('address')}")


def _local(record):
    address = record.get("address")
    if record.get("family") == 1 or isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = str(address[0]) if address else ""
    if host in ("", "localhost", "None") or host.startswith("127.") or host == "::1":
        return True
    return False


def _command_line():
    try:  # sys.argv is still ['-m'] here for `python -m module`
        with open("/proc/self/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return list(sys.argv)


if _LOG:
    _write({"event": "installed", "argv": _command_line()})
    sys.addaudithook(_hook)

"""Sizes, speeds and durations written the way people read them."""

from __future__ import annotations

_UNITS = ("bytes", "KB", "MB", "GB", "TB")


def format_bytes(count: float) -> str:
    """Decimal units (1 GB = 10^9 bytes), as file managers and the Hub show them."""
    value = float(count)
    for unit in _UNITS:
        if abs(value) < 1000 or unit == _UNITS[-1]:
            if unit == "bytes":
                return f"{int(value)} bytes"
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_params(count: int | None) -> str:
    """'8.0B' or '135M' parameters; '?' when unknown."""
    if not count:
        return "?"
    return f"{count / 1e9:.1f}B" if count >= 1e9 else f"{count / 1e6:.0f}M"


def format_rate(bytes_per_second: float) -> str:
    return f"{format_bytes(bytes_per_second)}/s"


def format_duration(seconds: float | None) -> str:
    """'1:05:09', '4:07' or '0:09'; '--:--' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0 or seconds > 360_000:
        return "--:--"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

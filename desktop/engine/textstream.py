"""Turn a stream of token bytes into text: UTF-8 split across tokens, and stop strings."""

from __future__ import annotations

import codecs


class Utf8Stream:
    """Decodes byte pieces, holding back an incomplete multi-byte character until it completes."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        return self._decoder.decode(data)

    def finish(self) -> str:
        return self._decoder.decode(b"", final=True)


class StopStringFilter:
    """Passes text through until a stop string appears, holding back only a possible prefix of one.

    Work per piece is bounded by the longest stop string, never by the length of the answer.
    """

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self._longest = max((len(s) for s in self.stops), default=0)
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        if not self.stops:
            return text
        window = self._held + text
        earliest = -1
        for stop in self.stops:
            at = window.find(stop)
            if at != -1 and (earliest == -1 or at < earliest):
                earliest = at
        if earliest != -1:
            self.stopped = True
            self._held = ""
            return window[:earliest]
        keep = self._possible_prefix_length(window)
        self._held = window[len(window) - keep :] if keep else ""
        return window[: len(window) - keep]

    def finish(self) -> str:
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _possible_prefix_length(self, window: str) -> int:
        for length in range(min(self._longest - 1, len(window)), 0, -1):
            tail = window[-length:]
            if any(stop.startswith(tail) for stop in self.stops):
                return length
        return 0

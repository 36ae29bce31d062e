"""Read a GGUF file's header in pure Python, distrusting every number in it.

The app reads this before a model is loaded (to register it, size it and pick a context
length), so a malformed header must give a clear error, never a crash, hang or huge allocation.
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_CONTEXT = 1 << 20  # no released model trains on more; larger values are damage, not data
MAX_KV_PAIRS = 1 << 16
MAX_TENSORS = 1 << 20
MAX_DIMS = 8

# llama.cpp's LLAMA_FTYPE values (general.file_type) → the names people know them by.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S",
    22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M",
    28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0", 38: "MXFP4",
}

_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
# ggml tensor types: (elements per block, bytes per block), to know where tensor data ends.
_TENSOR_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
    39: (32, 17),
}
# Arrays we never need whole (tokenizer vocabularies): skipped, not materialised.
_SKIP_ARRAYS = re.compile(r"^tokenizer\.ggml\.(tokens|scores|token_type|merges)$")


class GGUFError(ValueError):
    """The file is not a readable GGUF model; the message says why, for a person."""


@dataclass
class GGUFInfo:
    path: Path
    version: int
    metadata: dict[str, Any]
    tensor_count: int
    parameters: int
    size_bytes: int
    warnings: list[str] = field(default_factory=list)
    # What generating one token reads: mixture-of-experts tensors are read only for the
    # experts in use, and the input embedding only one row at a time (unless it doubles as
    # the output layer).
    tensor_bytes: int = 0
    expert_bytes: int = 0
    input_embedding_bytes: int = 0

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        value = self.metadata.get("general.name")
        return value if isinstance(value, str) else None

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return value if isinstance(value, str) and value.strip() else None

    @property
    def quantization(self) -> str | None:
        ftype = self.metadata.get("general.file_type")
        if isinstance(ftype, int) and ftype in FILE_TYPES:
            return FILE_TYPES[ftype]
        match = re.search(r"(I?Q\d_[A-Z0-9_]+|Q\d_\d|BF16|F16|F32|MXFP4)", self.path.name, re.I)
        return match.group(1).upper() if match else None

    @property
    def context_length(self) -> int | None:
        """The trained context length, capped to a sane range (None when absent or absurd)."""
        value = self.metadata.get(f"{self.architecture}.context_length")
        if not isinstance(value, int) or value <= 0:
            return None
        return min(value, MAX_CONTEXT)

    def arch_value(self, key: str) -> Any:
        return self.metadata.get(f"{self.architecture}.{key}")


class _Reader:
    def __init__(self, buf: mmap.mmap | bytes) -> None:
        self.buf = buf
        self.pos = 0
        self.size = len(buf)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise GGUFError("the file ends in the middle of its header (it is truncated or damaged)")
        data = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(data)

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise GGUFError("the file ends in the middle of its header (it is truncated or damaged)")
        self.pos += n

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.scalar("<Q")
        if length > self.size - self.pos:
            raise GGUFError("a text field claims to be longer than the whole file (damaged header)")
        return self.take(length).decode("utf-8", errors="replace")

    def value(self, vtype: int, keep: bool = True) -> Any:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.scalar("<I")
            count = self.scalar("<Q")
            # Every item takes at least one byte, so a count past the file's end is damage.
            if count > self.size - self.pos:
                raise GGUFError("the file ends before its header does (it is truncated or damaged)")
            if item_type in _SCALARS and not keep:
                self.skip(count * struct.calcsize(_SCALARS[item_type]))
                return None
            items = [self.value(item_type, keep) for _ in range(count)]
            return items if keep else None
        raise GGUFError(f"the header has a value of unknown type {vtype} (damaged or unsupported)")


def read_gguf(path: str | Path) -> GGUFInfo:
    """Parse a GGUF header; raise GGUFError with a plain-English reason on any problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise GGUFError(f"There is no file at {path}.") from None
    except OSError as exc:
        raise GGUFError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if path.is_dir():
        raise GGUFError(f"{path} is a folder, not a model file.")
    if size < 24:
        raise GGUFError(f"{path.name} is not a GGUF model file (it is only {size} bytes).")
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _parse(path, _Reader(buf), size)
    except GGUFError as exc:
        if str(exc).startswith(str(path)) or str(exc).startswith(path.name):
            raise
        raise GGUFError(f"{path.name} is not a usable model file: {exc}.") from None
    except (OSError, MemoryError, struct.error, RecursionError) as exc:
        raise GGUFError(f"{path.name} could not be read as a model file ({exc}).") from None


def _parse(path: Path, reader: _Reader, size: int) -> GGUFInfo:
    magic = reader.take(4)
    if magic != b"GGUF":
        raise GGUFError(f"{path.name} is not a GGUF model file (it does not start with 'GGUF')")
    version = reader.scalar("<I")
    if version not in (2, 3):
        raise GGUFError(f"{path.name} uses GGUF version {version}, which is not supported")
    tensor_count = reader.scalar("<Q")
    kv_count = reader.scalar("<Q")
    if kv_count > MAX_KV_PAIRS or tensor_count > MAX_TENSORS:
        raise GGUFError("the header's counts are impossibly large (damaged header)")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string()
        vtype = reader.scalar("<I")
        keep = not _SKIP_ARRAYS.match(key)
        value = reader.value(vtype, keep)
        if keep:
            metadata[key] = value
    parameters = 0
    data_needed = 0
    tensor_bytes = expert_bytes = embedding_bytes = 0
    has_output = False
    for _ in range(tensor_count):
        name = reader.string()
        n_dims = reader.scalar("<I")
        if n_dims > MAX_DIMS:
            raise GGUFError("a tensor claims an impossible number of dimensions (damaged header)")
        count = 1
        for _ in range(n_dims):
            count *= reader.scalar("<Q")
        tensor_type = reader.scalar("<I")
        offset = reader.scalar("<Q")
        block = _TENSOR_BLOCKS.get(tensor_type)
        nbytes = count // block[0] * block[1] if block else 1
        data_needed = max(data_needed, offset + nbytes)
        parameters += count
        tensor_bytes += nbytes
        if "_exps" in name:  # ffn_{up,gate,down}_exps: one slice per expert
            expert_bytes += nbytes
        elif name == "token_embd.weight":
            embedding_bytes = nbytes
        elif name == "output.weight":
            has_output = True
    alignment = metadata.get("general.alignment", 32)
    if not isinstance(alignment, int) or alignment <= 0:
        alignment = 32
    data_start = (reader.pos + alignment - 1) // alignment * alignment
    if tensor_count and data_start + data_needed > size:
        raise GGUFError(
            f"{path.name} is incomplete: it holds {size:,} bytes but its header describes "
            f"{data_start + data_needed:,} (an interrupted download?). Download it again."
        )
    info = GGUFInfo(path, version, metadata, tensor_count, parameters, size)
    info.tensor_bytes, info.expert_bytes = tensor_bytes, expert_bytes
    info.input_embedding_bytes = embedding_bytes if has_output else 0
    arch = info.architecture
    if not arch:
        raise GGUFError("the header does not say which model architecture it holds")
    raw_ctx = metadata.get(f"{arch}.context_length")
    if isinstance(raw_ctx, int) and (raw_ctx <= 0 or raw_ctx > MAX_CONTEXT):
        info.warnings.append(
            f"The file claims a context length of {raw_ctx:,}; using at most {MAX_CONTEXT:,}."
        )
    return info

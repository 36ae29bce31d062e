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

from desktop.modelfile.problems import explain

MAX_CONTEXT = 1 << 20  # no released model trains on more; larger values are damage, not data
MAX_KV_PAIRS = 1 << 16
MAX_TENSORS = 1 << 20
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_STRING = 1 << 24  # chat templates are tens of kB; a longer text field is a damaged length
MAX_ARRAY = 1 << 28  # vocabularies hold ~256k tokens
MAX_TENSOR_BYTES = 1 << 40  # 1 TiB: the largest real tensors (stacked experts) are ~10 GB

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
    """The file is not a usable GGUF model: problem is a key of modelfile.problems, the
    message says it for a person and detail says what exactly is wrong (for the log)."""

    def __init__(self, problem: str, name: str, detail: str = "") -> None:
        super().__init__(explain(problem, name))
        self.problem = problem
        self.detail = detail


class _Bad(Exception):
    """Raised inside the parser; read_gguf turns it into a GGUFError with the file's name."""

    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


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

    def _need(self, n: int, what: str, limit: int = 1 << 62) -> None:
        # A length no real file has is a damaged number, not a cut-off file.
        if n > limit:
            raise _Bad("damaged", f"{what} claims {n:,} bytes in a file of {self.size:,}")
        if self.pos + n > self.size:
            raise _Bad("incomplete", f"the file ends inside its header ({what} at byte {self.pos:,})")

    def take(self, n: int, what: str = "a field", limit: int = 1 << 62) -> bytes:
        self._need(n, what, limit)
        data = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(data)

    def skip(self, n: int, what: str) -> None:
        self._need(n, what)
        self.pos += n

    def scalar(self, fmt: str, what: str = "a number") -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what: str = "a text field") -> str:
        length = self.scalar("<Q", what)
        return self.take(length, what, MAX_STRING).decode("utf-8", errors="replace")

    def value(self, vtype: int, key: str, keep: bool = True) -> Any:
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype], key)
        if vtype == _STRING:
            return self.string(key)
        if vtype == _ARRAY:
            item_type = self.scalar("<I", key)
            count = self.scalar("<Q", key)
            if item_type not in _SCALARS and item_type not in (_STRING, _ARRAY):
                raise _Bad("damaged", f"the array {key!r} holds values of unknown type {item_type}")
            # Every item takes at least one byte: a count past the file's end is damage (and
            # llama.cpp would read a count over 2**63 as a negative length).
            if count > MAX_ARRAY:
                raise _Bad("damaged", f"the array {key!r} claims {count:,} items")
            self._need(count * (struct.calcsize(_SCALARS[item_type]) if item_type in _SCALARS
                                else 8), f"the array {key!r} of {count:,} items")
            if item_type in _SCALARS and not keep:
                self.skip(count * struct.calcsize(_SCALARS[item_type]), key)
                return None
            items = [self.value(item_type, key, keep) for _ in range(count)]
            return items if keep else None
        raise _Bad("damaged", f"the header value {key!r} has unknown type {vtype}")


def read_gguf(path: str | Path) -> GGUFInfo:
    """Parse a GGUF header; raise GGUFError with a plain-English reason on any problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise GGUFError("no_file", str(path)) from None
    except OSError as exc:
        raise GGUFError("unreadable", str(path), str(exc)) from None
    if path.is_dir():
        raise GGUFError("is_folder", str(path))
    if size < 24:
        raise GGUFError("not_gguf", path.name, f"the file holds only {size} bytes")
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _parse(path, _Reader(buf), size)
    except _Bad as exc:
        raise GGUFError(exc.problem, path.name, exc.detail) from None
    except (OSError, MemoryError, struct.error, RecursionError, OverflowError) as exc:
        raise GGUFError("unreadable", path.name, str(exc)) from None


def _parse(path: Path, reader: _Reader, size: int) -> GGUFInfo:
    magic = reader.take(4)
    if magic != b"GGUF":
        raise _Bad("not_gguf", f"the file starts with {magic!r}, not b'GGUF'")
    version = reader.scalar("<I")
    if version < 2:
        raise _Bad("old_format", f"GGUF version {version}")
    if version > 3:
        raise _Bad("newer_format", f"GGUF version {version}")
    tensor_count = reader.scalar("<Q")
    kv_count = reader.scalar("<Q")
    if kv_count > MAX_KV_PAIRS or tensor_count > MAX_TENSORS:
        raise _Bad("damaged", f"the header claims {tensor_count:,} tensors and {kv_count:,} values")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string("a metadata key")
        vtype = reader.scalar("<I", key)
        keep = not _SKIP_ARRAYS.match(key)
        value = reader.value(vtype, key, keep)
        if key in metadata:
            raise _Bad("damaged", f"the metadata key {key!r} appears twice")
        if keep:
            metadata[key] = value
    tensors = [_tensor_info(reader) for _ in range(tensor_count)]
    names = {t[0] for t in tensors}
    if len(names) != len(tensors):
        raise _Bad("damaged", "two tensors have the same name")
    alignment = metadata.get("general.alignment", 32)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise _Bad("damaged", f"general.alignment is {alignment!r}, not a power of two")
    data_start = (reader.pos + alignment - 1) // alignment * alignment
    parameters = _check_tensor_data(tensors, alignment, size - data_start)
    info = GGUFInfo(path, version, metadata, tensor_count, parameters, size)
    info.tensor_bytes = sum(t[4] for t in tensors)
    # ffn_{up,gate,down}_exps: one slice per expert
    info.expert_bytes = sum(t[4] for t in tensors if "_exps" in t[0])
    if any(t[0] == "output.weight" for t in tensors):
        info.input_embedding_bytes = next((t[4] for t in tensors if t[0] == "token_embd.weight"), 0)
    arch = info.architecture
    if not arch:
        raise _Bad("damaged", "the header does not say which model architecture it holds")
    raw_ctx = metadata.get(f"{arch}.context_length")
    if isinstance(raw_ctx, int) and (raw_ctx <= 0 or raw_ctx > MAX_CONTEXT):
        info.warnings.append(
            f"The file claims a context length of {raw_ctx:,}; using at most {MAX_CONTEXT:,}."
        )
    return info


# (name, elements, tensor type, offset, bytes)
_Tensor = tuple[str, int, int, int, int]


def _tensor_info(reader: _Reader) -> _Tensor:
    name = reader.string("a tensor name")
    n_dims = reader.scalar("<I", name)
    if n_dims > MAX_DIMS:
        raise _Bad("damaged", f"tensor {name!r} claims {n_dims:,} dimensions (at most {MAX_DIMS})")
    dims = [reader.scalar("<Q", name) for _ in range(n_dims)]
    tensor_type = reader.scalar("<I", name)
    offset = reader.scalar("<Q", name)
    count = 1
    for d in dims:
        count *= d
    if any(d >= 1 << 63 for d in dims) or count >= 1 << 63:
        raise _Bad("damaged", f"tensor {name!r} has dimensions {dims} whose product overflows")
    block = _TENSOR_BLOCKS.get(tensor_type)
    if block is None:
        # ggml has about 40 types: a small unknown one may be newer than us, a large one is noise.
        problem = "unknown_quantization" if tensor_type < 256 else "damaged"
        raise _Bad(problem, f"tensor {name!r} has type {tensor_type}")
    if dims and dims[0] % block[0]:
        raise _Bad("damaged", f"tensor {name!r} rows of {dims[0]} do not fill blocks of {block[0]}")
    return name, count, tensor_type, offset, count // block[0] * block[1]


def _check_tensor_data(tensors: list[_Tensor], alignment: int, data_size: int) -> int:
    """Tensor data lies back to back, aligned, inside the file; returns the parameter count.

    Writers place tensors one after another; overlaps, gaps, misaligned or enormous tensors
    are damage, while a file that ends part-way through well-placed data was cut off.
    """
    end = 0
    for name, _count, _type, offset, nbytes in sorted(tensors, key=lambda t: t[3]):
        if nbytes > MAX_TENSOR_BYTES or offset > MAX_TENSOR_BYTES:
            raise _Bad("damaged", f"tensor {name!r} claims {nbytes:,} bytes at {offset:,}, larger "
                       "than any model")
        if offset % alignment:
            raise _Bad("damaged", f"tensor {name!r} starts at {offset:,}, not a multiple of {alignment}")
        expected = (end + alignment - 1) // alignment * alignment
        if offset != expected:
            raise _Bad("damaged", f"tensor {name!r} starts at {offset:,}; the previous tensor "
                       f"ends at {end:,}")
        end = offset + nbytes
    if end > data_size:
        raise _Bad("incomplete", f"the file holds {data_size:,} bytes of tensor data; its header "
                   f"describes {end:,}")
    if tensors and data_size - end >= alignment:
        # Writers pad the last tensor to the alignment and stop; more is a tensor that shrank.
        raise _Bad("damaged", f"{data_size - end:,} bytes follow the last tensor's data")
    return sum(t[1] for t in tensors)

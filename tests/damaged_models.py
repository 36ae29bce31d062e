"""A corpus of damaged copies of the test model: every part of a GGUF file, broken on purpose.

Each case is a name and a function that writes the damaged file; the files are written one
at a time (a copy is 98 MB), tried, and deleted. The tests and bench/reliability.py share it.
"""

from __future__ import annotations

import shutil
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


@dataclass
class Field:
    key: str
    key_at: int  # where the key's length prefix starts
    type_at: int
    value_at: int
    vtype: int
    item_type: int | None = None  # arrays
    count_at: int | None = None  # arrays: where the item count is
    items_at: list[int] = field(default_factory=list)  # arrays: where the first few items are
    end: int = 0


@dataclass
class TensorInfo:
    name: str
    name_at: int
    n_dims_at: int
    dims_at: list[int]
    dims: list[int]
    type_at: int
    tensor_type: int
    offset_at: int
    offset: int


@dataclass
class Layout:
    """Where everything is in a GGUF file, to damage it precisely."""

    size: int
    kv_count_at: int
    tensor_count_at: int
    fields: dict[str, Field]
    tensors: list[TensorInfo]
    infos_end: int
    data_start: int


def read_layout(path: Path) -> Layout:
    data = path.read_bytes()[: 16 * 1024 * 1024]
    pos = 8

    def u32() -> int:
        nonlocal pos
        pos += 4
        return int(struct.unpack_from("<I", data, pos - 4)[0])

    def u64() -> int:
        nonlocal pos
        pos += 8
        return int(struct.unpack_from("<Q", data, pos - 8)[0])

    def string() -> str:
        nonlocal pos
        n = u64()
        pos += n
        return data[pos - n : pos].decode("utf-8", "replace")

    def skip_value(vtype: int) -> None:
        nonlocal pos
        if vtype in _SCALAR_SIZES:
            pos += _SCALAR_SIZES[vtype]
        elif vtype == 8:
            string()
        else:
            item_type, count = u32(), u64()
            for _ in range(count):
                skip_value(item_type)

    tensor_count_at = pos
    tensor_count = u64()
    kv_count_at = pos
    kv_count = u64()
    fields: dict[str, Field] = {}
    for _ in range(kv_count):
        key_at = pos
        key = string()
        type_at = pos
        vtype = u32()
        f = Field(key, key_at, type_at, pos, vtype)
        if vtype == 9:
            f.item_type = u32()
            f.count_at = pos
            count = u64()
            for i in range(count):
                if i < 8:
                    f.items_at.append(pos)
                skip_value(f.item_type)
        else:
            skip_value(vtype)
        f.end = pos
        fields[key] = f
    tensors = []
    for _ in range(tensor_count):
        name_at = pos
        name = string()
        n_dims_at = pos
        n_dims = u32()
        dims_at, dims = [], []
        for _ in range(n_dims):
            dims_at.append(pos)
            dims.append(u64())
        type_at = pos
        ttype = u32()
        offset_at = pos
        offset = u64()
        tensors.append(TensorInfo(name, name_at, n_dims_at, dims_at, dims, type_at, ttype, offset_at, offset))
    infos_end = pos
    data_start = (pos + 31) // 32 * 32
    return Layout(path.stat().st_size, kv_count_at, tensor_count_at, fields, tensors, infos_end, data_start)


Writer = Callable[[Path, Path], None]  # (source, destination)


@dataclass(frozen=True)
class Patch:
    """Bytes overwritten in place: cheap to apply to a working copy and to undo."""

    at: int
    raw: bytes

    def __call__(self, src: Path, dst: Path) -> None:
        shutil.copyfile(src, dst)
        with dst.open("r+b") as fh:
            fh.seek(self.at)
            fh.write(self.raw)


def _patch(at: int, raw: bytes) -> Writer:
    return Patch(at, raw)


def _truncate(size: int) -> Writer:
    def write(src: Path, dst: Path) -> None:
        with src.open("rb") as fh, dst.open("wb") as out:
            out.write(fh.read(size))

    return write


def _splice(lay: Layout, at: int, remove: int, insert: bytes) -> Writer:
    """Replace remove header bytes at `at` with insert; the tensor data stays aligned."""

    def write(src: Path, dst: Path) -> None:
        data = src.read_bytes()
        header = data[:at] + insert + data[at + remove : lay.infos_end]
        padding = -len(header) % 32
        dst.write_bytes(header + b"\0" * padding + data[lay.data_start :])

    return write


def _string_field(key: str, value: str) -> bytes:
    k, v = key.encode(), value.encode()
    return struct.pack("<Q", len(k)) + k + struct.pack("<I", 8) + struct.pack("<Q", len(v)) + v


@dataclass
class Case:
    name: str
    part: str  # which part of the file is damaged
    write: Writer


def damaged_cases(src: Path) -> list[Case]:
    """At least 150 ways to damage src, grouped by the part of the file they break."""
    lay = read_layout(src)
    f = lay.fields
    cases: list[Case] = []

    def add(part: str, name: str, write: Writer) -> None:
        cases.append(Case(f"{part}-{name}", part, write))

    # -- the fixed header
    add("header", "magic-zeroed", _patch(0, b"\0\0\0\0"))
    add("header", "magic-ggml", _patch(0, b"ggml"))
    add("header", "magic-lowercase", _patch(0, b"gguf"))
    for version in (0, 1, 4, 99, 0xFFFFFFFF):
        add("header", f"version-{version}", _patch(4, struct.pack("<I", version)))
    for n in (0, 1, 271, 273, 1000, 2**31, 2**63, 2**64 - 1):
        add("header", f"tensor-count-{n}", _patch(lay.tensor_count_at, struct.pack("<Q", n)))
    for n in (0, 1, 10, 31, 33, 40, 2**40, 2**64 - 1):
        add("header", f"kv-count-{n}", _patch(lay.kv_count_at, struct.pack("<Q", n)))

    # -- metadata values and their types
    def value(key: str, fmt: str, v: object, label: str) -> None:
        add("metadata", f"{key}-{label}", _patch(f[key].value_at, struct.pack(fmt, v)))

    for v in (0, 31, 0xFFFFFFFF):
        value("llama.block_count", "<I", v, str(v))
    for v in (0, 1, 577, 2**31 - 1):
        value("llama.embedding_length", "<I", v, str(v))
    for v in (0, 7, 2**31 - 1):
        value("llama.feed_forward_length", "<I", v, str(v))
    for v in (0, 2, 10, 0xFFFFFFFF):
        value("llama.attention.head_count", "<I", v, str(v))
    for v in (0, 2, 9, 0xFFFFFFFF):
        value("llama.attention.head_count_kv", "<I", v, str(v))
    for v in (0, 1, 0xFFFFFFFF):
        value("llama.context_length", "<I", v, str(v))
    for v in (0, 3, 0xFFFFFFFF):
        value("llama.rope.dimension_count", "<I", v, str(v))
    value("llama.rope.freq_base", "<f", float("nan"), "nan")
    value("llama.attention.layer_norm_rms_epsilon", "<f", -1.0, "negative")
    value("llama.attention.layer_norm_rms_epsilon", "<f", float("nan"), "nan")
    value("general.file_type", "<I", 999, "999")
    value("general.quantization_version", "<I", 99, "99")
    value("tokenizer.ggml.bos_token_id", "<I", 0xFFFFFFFF, "4294967295")
    value("tokenizer.ggml.eos_token_id", "<I", 49152, "49152")
    for vtype in (8, 9, 13, 255, 0xFFFFFFFF):
        add("metadata", f"block-count-type-{vtype}", _patch(f["llama.block_count"].type_at, struct.pack("<I", vtype)))
    for vtype in (4, 9, 13):
        add("metadata", f"architecture-type-{vtype}", _patch(f["general.architecture"].type_at, struct.pack("<I", vtype)))
    arch = f["general.architecture"]
    add("metadata", "architecture-unknown", _patch(arch.value_at + 8, b"lxyzz"))
    add("metadata", "architecture-bert", _splice(lay, arch.value_at, 8 + 5, struct.pack("<Q", 4) + b"bert"))
    add("metadata", "architecture-empty", _splice(lay, arch.value_at, 8 + 5, struct.pack("<Q", 0)))
    add("metadata", "architecture-key-renamed", _patch(arch.key_at + 8, b"G"))
    add("metadata", "block-count-key-renamed", _patch(f["llama.block_count"].key_at + 8 + 6, b"X"))
    add("metadata", "embedding-key-renamed", _patch(f["llama.embedding_length"].key_at + 8 + 6, b"X"))
    for n in (2**63, 2**64 - 1, 200_000_000):
        add("metadata", f"name-length-{n}", _patch(f["general.name"].value_at, struct.pack("<Q", n)))
        add("metadata", f"key-length-{n}", _patch(f["general.name"].key_at, struct.pack("<Q", n)))
    add("metadata", "name-invalid-utf8", _patch(f["general.name"].value_at + 8, b"\xff\xfe\xfd"))
    add("metadata", "tokenizer-model-unknown", _patch(f["tokenizer.ggml.model"].value_at + 8, b"zzzz"))
    add("metadata", "tokenizer-pre-unknown", _patch(f["tokenizer.ggml.pre"].value_at + 8, b"zzzzzz"))
    add("metadata", "alignment-0", _alignment_case(src, lay, 0))
    add("metadata", "alignment-3", _alignment_case(src, lay, 3))
    add("metadata", "alignment-huge", _alignment_case(src, lay, 1 << 30))

    # -- tokenizer arrays
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"):
        a = f[key]
        short = key.rsplit(".", 1)[1]
        assert a.count_at is not None
        for n in (0, 1, 49151, 49153, 2**31, 2**63, 2**64 - 1):
            add("tokenizer", f"{short}-count-{n}", _patch(a.count_at, struct.pack("<Q", n)))
        for t in (4, 8, 9, 13):
            add("tokenizer", f"{short}-item-type-{t}", _patch(a.count_at - 4, struct.pack("<I", t)))
    tokens = f["tokenizer.ggml.tokens"]
    for i in (0, 1, 5):
        add("tokenizer", f"token-{i}-length-huge", _patch(tokens.items_at[i], struct.pack("<Q", 2**62)))
    add("tokenizer", "token-types-invalid", _patch(f["tokenizer.ggml.token_type"].items_at[0], struct.pack("<i", 99) * 8))
    add("tokenizer", "merges-garbled", _patch(f["tokenizer.ggml.merges"].items_at[0] + 8, b"\xff\xff\xff"))

    # -- tensor infos
    first, mid, last = lay.tensors[0], lay.tensors[len(lay.tensors) // 2], lay.tensors[-1]
    for label, t in (("first", first), ("middle", mid), ("last", last)):
        add("tensors", f"{label}-name-garbled", _patch(t.name_at + 8, b"\xff#"))
        add("tensors", f"{label}-name-length-huge", _patch(t.name_at, struct.pack("<Q", 2**61)))
        for n in (0, 5, 9, 2**31):
            add("tensors", f"{label}-n-dims-{n}", _patch(t.n_dims_at, struct.pack("<I", n)))
        for d in (0, 1, t.dims[0] + 32, 2**40, 2**62, 2**64 - 1):
            add("tensors", f"{label}-dim0-{d}", _patch(t.dims_at[0], struct.pack("<Q", d)))
        for tt in (0, 1, 2, 8, 4, 31, 99, 0xFFFFFFFF):
            add("tensors", f"{label}-type-{tt}", _patch(t.type_at, struct.pack("<I", tt)))
        for off in (1, 7, t.offset + 32 * 1024, lay.size, 2**62, 2**64 - 32):
            add("tensors", f"{label}-offset-{off}", _patch(t.offset_at, struct.pack("<Q", off)))
    add("tensors", "duplicate-name", _duplicate_name(lay))
    add("tensors", "dims-overflow-product", _patch(first.dims_at[0], struct.pack("<Q", 2**32) + struct.pack("<Q", 2**32)))

    # -- tensor data
    for frac in (0.3, 0.95):
        at = lay.data_start + int((lay.size - lay.data_start) * frac)
        add("data", f"ff-{int(frac * 100)}pct", _patch(at, b"\xff" * 65536))
    add("data", "nan-block", _patch(lay.data_start + 4096, struct.pack("<e", float("nan")) * 4096))

    # -- truncations at many places
    offsets = sorted({
        0, 1, 3, 4, 7, 8, 12, 16, 20, 23, 24, 32, 64, 100, 1000, 4096,
        f["general.name"].value_at + 3, f["tokenizer.ggml.tokens"].count_at + 4,
        f["tokenizer.ggml.tokens"].end - 5, f["tokenizer.ggml.merges"].end - 3,
        f["tokenizer.chat_template"].value_at + 50, lay.tensors[0].name_at + 3,
        lay.tensors[100].offset_at + 2, lay.infos_end - 1, lay.infos_end, lay.data_start,
        lay.data_start + 1, lay.data_start + 1000, lay.size // 4, lay.size // 2,
        lay.size * 9 // 10, lay.size - 4096, lay.size - 1,
    } - {0})
    for n in offsets:
        add("truncated", f"at-{n}", _truncate(n))
    add("truncated", "empty", _truncate(0))

    # -- chat templates (the model loads; its template is broken or hostile)
    template = f["tokenizer.chat_template"]
    old_len = template.end - template.value_at
    for label, text in (
        ("syntax-error", "{% for m in messages %}{{ m.content "),
        ("unknown-filter", "{{ messages|nosuchfilter }}"),
        ("raises", "{{ raise_exception('This template refuses every chat.') }}"),
        ("escape-attempt", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
        ("endless-loop", "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"),
        ("huge-output", "{{ 'x' * 4000000000 }}"),
        ("recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"),
        ("empty-output", "{# nothing #}"),
    ):
        raw = struct.pack("<Q", len(text.encode())) + text.encode()
        add("template", label, _splice(lay, template.value_at, old_len, raw))
    add("template", "length-huge", _patch(template.value_at, struct.pack("<Q", 2**60)))
    add("template", "type-int", _patch(template.type_at, struct.pack("<I", 4)))
    add("template", "invalid-utf8", _patch(template.value_at + 8, b"\xff\xfe"))
    return cases


def _alignment_case(src: Path, lay: Layout, alignment: int) -> Writer:
    """Add general.alignment = alignment to the metadata (the data no longer lines up)."""
    extra = struct.pack("<Q", len(b"general.alignment")) + b"general.alignment" + struct.pack("<II", 4, alignment)

    def write(s: Path, dst: Path) -> None:
        data = s.read_bytes()
        count = struct.unpack_from("<Q", data, lay.kv_count_at)[0] + 1
        first_key = min(fl.key_at for fl in lay.fields.values())
        out = bytearray(data[:first_key] + extra + data[first_key:])
        struct.pack_into("<Q", out, lay.kv_count_at, count)
        dst.write_bytes(bytes(out))

    return write


def _duplicate_name(lay: Layout) -> Writer:
    """Give a tensor another one's name (two names of the same length)."""
    a, b = next((x, y) for x in lay.tensors for y in lay.tensors
                if x is not y and len(x.name) == len(y.name))
    return _patch(b.name_at + 8, a.name.encode())


def iter_damaged(src: Path, folder: Path, cases: list[Case] | None = None) -> Iterator[tuple[Case, Path]]:
    """Each damaged file in turn, under its own name. In-place patches go to one working copy
    and are undone afterwards (a copy is 98 MB); other cases get a file of their own."""
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "work.gguf"
    shutil.copyfile(src, work)
    original = src.read_bytes()
    try:
        for case in cases if cases is not None else damaged_cases(src):
            path = folder / f"{case.name}.gguf"
            if isinstance(case.write, Patch):
                at, raw = case.write.at, case.write.raw
                work.rename(path)
                with path.open("r+b") as fh:
                    fh.seek(at)
                    fh.write(raw)
                try:
                    yield case, path
                finally:
                    with path.open("r+b") as fh:
                        fh.seek(at)
                        fh.write(original[at : at + len(raw)])
                    path.rename(work)
            else:
                case.write(src, path)
                try:
                    yield case, path
                finally:
                    path.unlink(missing_ok=True)
    finally:
        work.unlink(missing_ok=True)


@dataclass
class Outcome:
    """What trying one file came to: the message a person saw (if any) and which known
    explanation it is ("ok" when the model loaded and answered)."""

    case: str
    problem: str | None
    message: str = ""
    detail: str = ""
    notice: str = ""
    answered: bool = False
    crashed: bool = False
    seconds: float = 0.0


def try_model_file(client: Any, case: Case, path: Path) -> Outcome:
    """Load path in the engine and ask for two tokens, as the app does for a chat."""
    from desktop.engine.api import EngineError
    from desktop.engine.options import GenerateOptions, LoadOptions
    from desktop.modelfile.problems import which_problem

    started = time.perf_counter()
    out = Outcome(case.name, "ok")
    try:
        client.load(LoadOptions(path=str(path), n_ctx=512))
        options = GenerateOptions(messages=[{"role": "user", "content": "Hi"}], max_tokens=2,
                                  temperature=0)
        for event in client.generate(options):
            if event.get("event") == "started":
                out.notice = event.get("notice") or ""
            elif event.get("event") == "done":
                out.answered = True
            elif event.get("event") == "error":
                out.message, out.detail = event["message"], event.get("detail") or ""
                out.crashed = event.get("kind") == "crash"
    except EngineError as exc:
        out.message, out.detail, out.crashed = str(exc), exc.detail, exc.crashed
    if out.message:
        out.problem = which_problem(out.message)
    out.seconds = round(time.perf_counter() - started, 3)
    return out

"""What GGUF file names say: quantization, split parts, and where a download is kept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_QUANT = re.compile(
    r"(?<![A-Za-z0-9])(?:UD-)?"
    r"(IQ[1-4]_(?:XXS|XS|NL|S|M)|Q[2-8]_K_(?:XL|S|M|L)|Q[2-8]_K|Q[2-8]_[01]|TQ[12]_0"
    r"|MXFP4|BF16|FP16|F16|F32)"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"^(?P<base>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)
_PROJECTOR = re.compile(r"(^|[/_.-])mmproj([_.-]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class SplitName:
    base: str  # the path in the repo without "-0000k-of-0000n.gguf"
    index: int
    count: int


def quantization_of(filename: str) -> str | None:
    """'Qwen3-8B-Q4_K_M.gguf' → 'Q4_K_M' (the last match wins: names often start with a version)."""
    matches = _QUANT.findall(PurePosixPath(filename).name)
    if not matches:
        return None
    quant = matches[-1].upper()
    return "F16" if quant == "FP16" else quant


def split_name(filename: str) -> SplitName | None:
    match = _SPLIT.match(filename)
    if not match:
        return None
    index, count = int(match.group("index")), int(match.group("count"))
    if not 1 <= index <= count:
        return None
    return SplitName(match.group("base"), index, count)


def split_part_names(first: str) -> list[str]:
    """All part names of a split model, given any one of them (or the file itself if not split)."""
    split = split_name(first)
    if split is None:
        return [first]
    return [f"{split.base}-{i:05d}-of-{split.count:05d}.gguf" for i in range(1, split.count + 1)]


def is_projector(filename: str) -> bool:
    """mmproj files add image input to a model; they are not models to chat with."""
    return bool(_PROJECTOR.search(PurePosixPath(filename).name))


def is_gguf(filename: str) -> bool:
    return filename.lower().endswith(".gguf")


def model_name_for(filename: str) -> str:
    """A friendly registry name: the file name without folder, split suffix or extension."""
    split = split_name(filename)
    stem = split.base if split else filename[: -len(".gguf")] if is_gguf(filename) else filename
    return PurePosixPath(stem).name


def local_path(models_dir: Path, repo_id: str, filename: str) -> Path:
    """models/<owner>/<repo>/<file>: two repos may ship files with the same name.

    Split parts stay side by side in one folder, which is where llama.cpp looks for them.
    """
    parts = [p for p in repo_id.split("/") if p not in ("", ".", "..")]
    name = PurePosixPath(filename).name
    if not parts or name in ("", ".", ".."):
        raise ValueError(f"not a usable repository file: {repo_id}/{filename}")
    return models_dir.joinpath(*parts, name)

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from desktop.modelfile.gguf import MAX_CONTEXT, GGUFError, read_gguf
from tests.helpers import patch_gguf_value


def test_reads_the_test_model(test_model_path: Path) -> None:
    info = read_gguf(test_model_path)
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert 130e6 < info.parameters < 140e6
    assert info.chat_template and "<|im_start|>" in info.chat_template


def test_absurd_context_length_is_capped_not_trusted(test_model_path: Path, tmp_path: Path) -> None:
    path = patch_gguf_value(
        test_model_path, tmp_path / "huge.gguf", "llama.context_length", "<I", 2**31
    )
    info = read_gguf(path)
    assert info.context_length == MAX_CONTEXT
    assert any("2,147,483,648" in w for w in info.warnings)


@pytest.mark.parametrize("size", [0, 10, 100, 4096, 1_000_000])
def test_truncated_files_give_an_error_not_a_crash(
    test_model_path: Path, tmp_path: Path, size: int
) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(test_model_path.read_bytes()[:size])
    with pytest.raises(GGUFError) as caught:
        read_gguf(path)
    assert caught.value.problem == ("not_gguf" if size < 24 else "incomplete")


def test_not_a_gguf(tmp_path: Path) -> None:
    path = tmp_path / "notes.gguf"
    path.write_text("hello " * 100)
    with pytest.raises(GGUFError, match="is not a GGUF model file"):
        read_gguf(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="There is no file"):
        read_gguf(tmp_path / "nope.gguf")
    with pytest.raises(GGUFError, match="folder"):
        read_gguf(tmp_path)


def test_huge_counts_fail_fast(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gguf"
    # Two billion key/value pairs claimed in a 40-byte file.
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2**31) + b"\0" * 16)
    with pytest.raises(GGUFError, match="is damaged") as caught:
        read_gguf(path)
    assert "2,147,483,648" in caught.value.detail
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**40) + b"k")
    with pytest.raises(GGUFError, match="is damaged") as caught:
        read_gguf(path)
    assert "1,099,511,627,776" in caught.value.detail

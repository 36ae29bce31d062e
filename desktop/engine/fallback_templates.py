"""Chat templates for GGUF files that carry none, chosen by architecture."""

from __future__ import annotations

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

LLAMA3 = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

# Gemma has no system role: the system prompt is folded into the first user turn.
GEMMA = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='') %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{% set ns.system = message['content'] + '\n\n' %}"
    "{% else %}"
    "{% set role = 'model' if message['role'] == 'assistant' else 'user' %}"
    "{{ '<start_of_turn>' + role + '\n' }}"
    "{% if loop.index0 == 1 or (loop.first and role == 'user') %}{{ ns.system }}{% endif %}"
    "{{ message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)

MISTRAL = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='') %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{% set ns.system = message['content'] + '\n\n' %}"
    "{% elif message['role'] == 'user' %}{{ '[INST] ' + ns.system + message['content'] + ' [/INST]' }}"
    "{% set ns.system = '' %}"
    "{% else %}{{ ' ' + message['content'] + eos_token }}{% endif %}"
    "{% endfor %}"
)

PHI3 = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

_BY_ARCHITECTURE = {
    "llama": LLAMA3,
    "gemma": GEMMA,
    "gemma2": GEMMA,
    "gemma3": GEMMA,
    "mistral": MISTRAL,
    "phi3": PHI3,
    "phi4": PHI3,
    "qwen2": CHATML,
    "qwen3": CHATML,
}


def fallback_template(architecture: str | None, vocabulary_hint: str = "") -> str:
    """A sensible template for a model without one; ChatML when nothing better is known.

    vocabulary_hint holds the text of the model's special tokens: the "llama" architecture
    covers Llama 2 ([INST]), Llama 3 (header tokens) and ChatML fine-tunes such as SmolLM2.
    """
    if "<|im_start|>" in vocabulary_hint:
        return CHATML
    if "<|start_header_id|>" in vocabulary_hint:
        return LLAMA3
    if "[INST]" in vocabulary_hint:
        return MISTRAL
    if architecture == "llama":
        return CHATML if vocabulary_hint else LLAMA3
    return _BY_ARCHITECTURE.get(architecture or "", CHATML)

"""Chat templates that attack the app: sandbox escapes, endless loops, gigabyte outputs.
Shared by tests/core/test_templates_untrusted.py and bench/reliability.py."""

from __future__ import annotations

from pathlib import Path


def escape_templates(marker: Path) -> list[str]:
    """Templates that try to reach Python's internals; each would create marker if it got out."""
    touch = f"touch {marker}"
    return [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        f"{{{{ cycler.__init__.__globals__.os.system('{touch}') }}}}",
        f"{{{{ joiner.__init__.__globals__['__builtins__']['__import__']('os').system('{touch}') }}}}",
        f"{{{{ lipsum.__globals__['os'].popen('{touch}').read() }}}}",
        f"{{{{ namespace.__init__.__globals__['os'].system('{touch}') }}}}",
        "{{ raise_exception.__globals__['sys'].modules }}",
        f"{{{{ strftime_now.__globals__['__builtins__'].open('{marker}', 'w') }}}}",
        "{{ messages.append({'role': 'user', 'content': 'injected'}) }}",
        "{{ messages[0].update({'content': 'changed'}) }}",
        "{{ '{0.__class__.__mro__}'.format('') }}",
        "{{ self._TemplateReference__context.environment }}",
        "{% include '/etc/passwd' %}",
        "{% import 'os' as os %}{{ os.system('true') }}",
        "{{ ({}).__class__.__base__.__subclasses__() }}",
    ]


ENDLESS_LOOPS = [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% if a == b - 1 %}{% endif %}"
    "{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% for i in range(100000) %}{{ f(n) if n else '' }}{% endfor %}{% endmacro %}"
    "{{ f(0) }}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
]

HUGE_OUTPUTS = [
    "{{ 'x' * 4000000000 }}",
    "{{ [0] * 4000000000 }}",
    "{{ 2 ** 100000000 }}",
    "{{ 'x'|center(10000000000) }}",
    "{{ 'x'.ljust(10000000000) }}",
    "{{ '%10000000000s' % 'x' }}",
    "{{ '{:>10000000000}'.format('x') }}",
    "{{ '%10000000000s'|format('x') }}",
    "{{ 'a\nb'|indent(10000000000) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}{{ ns.s }}",
    "{% set s = 'a' * 1000000 %}{{ s|replace('a', 'b' * 1000000) }}",
    "{% set s = 'a' * 1000000 %}{{ s.replace('a', 'b' * 1000000) }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}" + "y" * 64
    + "{% endfor %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
]

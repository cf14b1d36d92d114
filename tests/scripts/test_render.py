"""Prompt templates run in jinja2's immutable sandbox: no Python objects, no unknown names, bounded."""

from __future__ import annotations

import pytest

from scripts.render import MAX_OUTPUT, MAX_TEMPLATE, PromptContext, PromptError, render

CTX = PromptContext(caller_name="Sam", service_name="City SPOC")


def test_names_render() -> None:
    assert render("Is {{ caller_name }} safe? ({{ service_name }})", CTX) == "Is Sam safe? (City SPOC)"
    assert render("plain text", CTX) == "plain text"


@pytest.mark.parametrize(
    "template",
    [
        "{{ caller_name.__class__.__mro__ }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ config }}",
        "{{ nobody }}",
        "{% set x = [] %}{{ x.append(1) }}",
        "{{ unclosed",
    ],
)
def test_templates_cannot_reach_python_or_unknown_names(template: str) -> None:
    with pytest.raises(PromptError):
        render(template, CTX)


def test_sizes_are_bounded() -> None:
    with pytest.raises(PromptError, match="template longer"):
        render("x" * (MAX_TEMPLATE + 1), CTX)
    with pytest.raises(PromptError, match="rendered text longer"):
        render("{% for i in range(100000) %}{{ caller_name }}{% endfor %}", CTX)
    assert len(render("{% for i in range(10) %}ab{% endfor %}", CTX)) == 20 < MAX_OUTPUT

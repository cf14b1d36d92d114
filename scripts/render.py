"""Prompt text templates, rendered in jinja2's immutable sandbox.

Authors are not developers: a template sees only the plain strings in ``PromptContext`` (no Python
objects), an unknown name is an error (StrictUndefined) rather than a silent blank, and both the
template and what it renders are bounded in size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE = 2000  # characters of template source
MAX_OUTPUT = 4000  # characters of rendered text

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True, slots=True)
class PromptContext:
    """The only names a prompt template can use."""

    caller_name: str = "the caller"
    service_name: str = "this service"
    caller_type: str = "unknown"
    agent_name: str = "the call handler"


SAMPLE = PromptContext(caller_name="Sam", service_name="Sample Service", caller_type="public")


class PromptError(ValueError):
    pass


def render(template: str, context: PromptContext) -> str:
    """Render ``template``; raises ``PromptError`` (syntax, unknown name, sandbox refusal, size)."""
    if len(template) > MAX_TEMPLATE:
        raise PromptError(f"template longer than {MAX_TEMPLATE} characters")
    if "{" not in template:
        return template  # plain text: the common case needs no template at all
    try:
        compiled = _env.from_string(template)
        # Generate chunk by chunk so that a loop cannot build a huge string before we look.
        out: list[str] = []
        size = 0
        for chunk in compiled.generate(asdict(context)):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise PromptError(f"rendered text longer than {MAX_OUTPUT} characters")
            out.append(chunk)
    except TemplateError as exc:  # includes SecurityError and UndefinedError
        raise PromptError(f"{type(exc).__name__}: {exc.message or exc}") from None
    return "".join(out)

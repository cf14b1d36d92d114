"""Reading configuration YAML: safe, strict about duplicate keys, and without YAML 1.1's surprises.

PyYAML follows YAML 1.1, where ``20:00`` is the base-60 integer 1200 and ``0116`` an octal number.
Opening hours and phone numbers are full of such strings, so this loader resolves integers and floats
the YAML 1.2 way (decimal only) and leaves everything else a string. A key written twice in one mapping
is an error rather than last-one-wins, because that silently drops configuration.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cti.domain.errors import ConfigError

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    pass


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(_INT_TAG, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789"))
_StrictLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"""^(?:[-+]?(?:0|[1-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.VERBOSE,
    ),
    list("-+.0123456789"),
)


def _check_duplicate_keys(root: Node, file: str) -> None:
    seen_nodes: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # aliases share nodes
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                stack.extend((key_node, value_node))
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue
                if key_node.value in keys:
                    line = key_node.start_mark.line + 1
                    raise ConfigError(file, f"line {line}", str(key_node.value), "key written twice")
                keys.add(key_node.value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document; ``file`` names it in errors. An empty document is ``None``."""
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_duplicate_keys(root, file)
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(document)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(file, where, "(syntax)", f"invalid YAML: {problem}") from exc
    finally:
        loader.dispose()


def read_yaml(path: Path, file: str) -> Any:
    """Read and parse ``path``; errors name it as ``file``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(file, "(file)", "(file)", f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, "(file)", "(file)", f"cannot read: {exc}") from exc
    return parse_yaml(text, file)

"""YAML read safely, with the line of every value, for catalogs and config.

Why not ``yaml.safe_load``: it loses line numbers, turns ``0042`` into 42 and ``1250.50``
into a float, takes the last of two duplicate keys silently, and lets a few lines of aliases
("billion laughs") expand into more data than memory holds. Here:

- the document is built from the parser's events without recursion, so deep nesting is
  refused with a message instead of crashing, and the logical size of every alias is
  counted, so an alias bomb is refused before anything walks it;
- every scalar stays the text that was written (``None`` for an empty or ``null`` value):
  the reader of each field decides whether it is a number, a word or a SKU;
- mappings are :class:`LDict` and sequences :class:`LList`, which remember the line of each
  key and item, the keys that appeared twice, and where a comma inside ``{ }`` or ``[ ]``
  most likely cut one value in two (:class:`Cut`: ``{price: 24,90}`` reads as ``price: 24``
  and a key ``90`` without a value). Only the events' positions tell that apart from what
  was meant, so it is noted here; the reader of the document says what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from syndicator.common.problems import Problem, Unreadable

__all__ = ["Cut", "LDict", "LList", "YamlLimits", "line_of", "load_yaml"]

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_ALLOWED_TAGS = frozenset(
    {None, "!"}
    | {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}
)

try:  # libyaml's event parser is much faster; the pure one gives the same events
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class Cut:
    """A comma in a flow mapping or list that most likely cut one value in two.

    In a mapping: an entry without ``:`` (``after``, a key with no value) right after a
    plain ``key: before``, as ``{price: 24,90}`` or ``{en: Almonds, argan oil}`` parse
    (``key`` None: no plain value came before it). In a list: two plain items joined by a
    bare comma, digits on both sides (``[24,90]``). ``written`` is the text as it stands in
    the file from ``before`` to ``after``.
    """

    line: int
    key: str | None
    before: str | None
    after: str
    written: str

    @property
    def decimal(self) -> bool:
        """Digits, a comma, digits: a decimal comma, not a list of two things."""
        return bool(
            self.before
            and self.before[-1:].isdigit()
            and self.after.isdigit()
            and self.after.isascii()
        )


class LDict(dict[str, Any]):
    """A mapping that knows the line of itself, of each key, its duplicate keys and the
    places where a comma most likely cut a value (``cuts``)."""

    line: int
    key_lines: dict[str, int]
    duplicates: list[tuple[str, int, int]]
    cuts: list[Cut]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LList(list[Any]):
    """A sequence that knows the line of itself, of each item, and its ``cuts``."""

    line: int
    lines: list[int]
    cuts: list[Cut]

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


@dataclass(frozen=True, slots=True)
class YamlLimits:
    max_depth: int = 40
    max_values: int = 5_000_000
    max_alias_values: int = 200_000


@dataclass(slots=True)
class _Frame:
    value: LDict | LList
    anchor: str | None
    size: int = 1
    height: int = 1
    pending_key: str | None = None
    pending_key_line: int = 0
    flow: bool = False  # written inside { } or [ ]
    key_end: int = -1  # flow mappings: where the pending key ends in the text
    item_end: int = -1  # flow lists: where the last item ends, if it was a scalar


def load_yaml(text: str, file: str, limits: YamlLimits | None = None) -> Any:
    """Parse one YAML document into LDict / LList / str / None; raise Unreadable if unsafe."""

    limits = limits or YamlLimits()

    def refuse(line: int, message: str) -> Unreadable:
        return Unreadable(Problem(file, line, message))

    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int, int]] = {}  # anchor -> (value, size, height)
    root: Any = None
    documents = 0
    total = 0
    alias_total = 0

    def attach(value: Any, line: int, size: int, height: int) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        top.size += size
        top.height = max(top.height, height + 1)
        if isinstance(top.value, LList):
            if top.flow and not isinstance(value, str):
                top.item_end = -1
            top.value.append(value)
            top.value.lines.append(line)
        elif top.pending_key is None:
            if not isinstance(value, str) and value is not None:
                raise refuse(line, "a key must be a plain word, not a list or a mapping")
            top.pending_key, top.pending_key_line = "" if value is None else value, line
        else:
            key, key_line = top.pending_key, top.pending_key_line
            mapping = top.value
            assert isinstance(mapping, LDict)
            if key in mapping:
                mapping.duplicates.append((key, mapping.key_lines[key], key_line))
            mapping[key] = value
            mapping.key_lines[key] = key_line
            top.pending_key = None

    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise refuse(line, "the file holds several YAML documents (---); keep one")
            elif isinstance(event, yaml.ScalarEvent):
                if event.tag not in _ALLOWED_TAGS:
                    raise refuse(line, f"the YAML tag {event.tag} is not allowed here")
                plain = event.implicit[0] and not event.style  # libyaml says "", PyYAML None
                value = None if plain and event.value in _NULLS else event.value
                total += 1
                if event.anchor:
                    anchors[event.anchor] = (value, 1, 1)
                if stack and stack[-1].flow:  # see _flow_scalar; a key's end inline (many)
                    top = stack[-1]
                    if top.pending_key is None and type(top.value) is LDict:
                        top.key_end = event.end_mark.index if event.end_mark else -1
                    elif value is None or type(top.value) is LList:
                        _flow_scalar(top, text, value, event, line)
                attach(value, line, 1, 1)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in _ALLOWED_TAGS:
                    raise refuse(line, f"the YAML tag {event.tag} is not allowed here")
                if len(stack) >= limits.max_depth:
                    raise refuse(
                        line, f"the YAML is nested more than {limits.max_depth} levels deep"
                    )
                container: LDict | LList
                if isinstance(event, yaml.MappingStartEvent):
                    container = LDict()
                    container.key_lines, container.duplicates = {}, []
                else:
                    container = LList()
                    container.lines = []
                container.line, container.cuts = line, []
                total += 1
                stack.append(_Frame(container, event.anchor, flow=bool(event.flow_style)))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if frame.anchor:
                    anchors[frame.anchor] = (frame.value, frame.size, frame.height)
                attach(frame.value, frame.value.line, frame.size, frame.height)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    if any(f.anchor == event.anchor for f in stack):
                        raise refuse(line, f"the YAML alias *{event.anchor} refers to itself")
                    raise refuse(line, f"the YAML alias *{event.anchor} has no anchor")
                value, size, height = anchors[event.anchor]
                alias_total += size
                if alias_total > limits.max_alias_values:
                    raise refuse(
                        line,
                        "YAML aliases (*name) here expand into more than "
                        f"{limits.max_alias_values:,} values; write the values out instead",
                    )
                if len(stack) + height > limits.max_depth:
                    raise refuse(
                        line, f"the YAML is nested more than {limits.max_depth} levels deep"
                    )
                attach(value, line, size, height)
            if total > limits.max_values:
                raise refuse(line, f"the YAML holds more than {limits.max_values:,} values")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        column = f" (column {mark.column + 1})" if mark else ""
        what = exc.problem or exc.context or "broken YAML"
        raise refuse(
            line,
            f"the YAML cannot be read here{column}: {what}; check the indentation (spaces, "
            "not tabs) and put text containing ': ' or '#' in quotes",
        ) from None
    except yaml.reader.ReaderError as exc:  # control characters: most likely not a text file
        line = text.count("\n", 0, exc.position) + 1
        raise refuse(
            line, f"the file holds a control character ({exc.character!r}); is it a text file?"
        ) from None
    except yaml.YAMLError as exc:
        raise refuse(0, f"the YAML cannot be read: {exc}") from None
    return root


def _flow_scalar(frame: _Frame, text: str, value: Any, event: Any, line: int) -> None:
    """A scalar is about to be put in a flow mapping or list: note a :class:`Cut` when it is
    the value the parser made up for a key written without ``:``, or an item of digits
    joined to the one before by a bare comma; remember where keys and items end."""
    start, end = event.start_mark.index, event.end_mark.index
    container = frame.value
    if isinstance(container, LList):
        if not isinstance(value, str):
            return
        before_end, frame.item_end = frame.item_end, end
        if before_end >= 0 and start == before_end + 1 and text[before_end] == ",":
            before = container[-1]
            cut = Cut(line, None, before, value, f"{before},{value}")
            if cut.decimal:
                container.cuts.append(cut)
        return
    assert isinstance(container, LDict)
    key = frame.pending_key
    if key is None:  # a key: where it ends (load_yaml does this itself, inline)
        frame.key_end = end
        return
    key_end = frame.key_end
    if value is not None or start != end or key_end < 0 or ":" in text[key_end:start]:
        return
    before_key = next(reversed(container), None)
    before = container.get(before_key) if before_key is not None else None
    if before_key is None or not isinstance(before, str):
        container.cuts.append(Cut(frame.pending_key_line, None, None, key, key))
        return
    key_start = key_end - len(key)
    at = text.rfind(before, 0, key_start)
    between = text[at + len(before) : key_start] if at >= 0 else ", "
    written = " ".join(f"{before}{between}{key}".split())
    line = container.key_lines.get(before_key, frame.pending_key_line)
    container.cuts.append(Cut(line, before_key, before, key, written))


def line_of(data: Any, path: tuple[str | int, ...]) -> int | None:
    """The line of the value at ``path`` (keys and indexes), or of its nearest parent."""
    line: int | None = getattr(data, "line", None)
    node = data
    for step in path:
        if isinstance(node, LDict) and isinstance(step, str) and step in node:
            line, node = node.line_of(step), node[step]
            continue
        if isinstance(node, LList) and isinstance(step, int) and 0 <= step < len(node):
            line, node = node.line_of(step), node[step]
            continue
        break
    return line

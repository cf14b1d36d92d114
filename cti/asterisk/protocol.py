"""The AMI wire format: framing, messages and action encoding (no I/O, no policy).

A connection starts with one banner line (``Asterisk Call Manager/11.0.0``), then carries messages:
``Key: Value`` lines ending CRLF, each message ended by a blank line. Keys are case-insensitive and may
repeat within one message (``ChanVariable``, ``Output``), so a message is an ordered list of pairs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence

MAX_FRAME_BYTES = 1 << 20  # a frame (or a line) longer than this is garbage: dropped, never buffered
Pair = tuple[str, str]


class Message:
    """One AMI message: ordered ``(key, value)`` pairs; lookups ignore the case of keys."""

    __slots__ = ("malformed", "pairs")

    def __init__(self, pairs: Iterable[Pair] = (), malformed: int = 0) -> None:
        self.pairs: list[Pair] = list(pairs)
        self.malformed = malformed  # lines without a colon, dropped

    def get(self, key: str, default: str | None = None) -> str | None:
        wanted = key.lower()
        for name, value in self.pairs:
            if name.lower() == wanted:
                return value
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def getall(self, key: str) -> list[str]:
        wanted = key.lower()
        return [value for name, value in self.pairs if name.lower() == wanted]

    def variables(self, prefix: str = "ChanVariable") -> dict[str, str]:
        """``ChanVariable: NAME=value`` headers as a dict (also the ``ChanVariable(<channel>)`` form
        OriginateResponse uses, where the channel name is part of the header name)."""
        wanted = prefix.lower()
        out: dict[str, str] = {}
        for name, value in self.pairs:
            low = name.lower()
            if low == wanted or (low.startswith(wanted + "(") and low.endswith(")")):
                var, _, val = value.partition("=")
                out[var] = val
        return out

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def encode(self) -> bytes:
        return encode(self.pairs)

    def __repr__(self) -> str:
        kind = "Event" if self.event is not None else "Response"
        return f"<Message {kind}={self.get(kind)!r} ActionID={self.action_id!r} keys={len(self.pairs)}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and other.pairs == self.pairs

    __hash__ = None  # type: ignore[assignment]


def _clean(text: str) -> str:
    # A CR or LF inside a value would end the line early and let a caller-controlled string inject
    # headers (caller names reach us from the network), so they never go out raw.
    return text.replace("\r", " ").replace("\n", " ")


def encode(pairs: Iterable[Pair] | Mapping[str, str]) -> bytes:
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    lines = [f"{_clean(key)}: {_clean(value)}\r\n" for key, value in items]
    return ("".join(lines) + "\r\n").encode("utf-8")


def action(name: str, action_id: str, headers: Sequence[Pair] | Mapping[str, str] = ()) -> bytes:
    items = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    return encode([("Action", name), ("ActionID", action_id), *items])


def md5_key(challenge: str, secret: str) -> str:
    """The MD5 challenge answer Asterisk expects: md5(challenge + secret), hex."""
    return hashlib.md5((challenge + secret).encode("utf-8"), usedforsecurity=False).hexdigest()


class FrameParser:
    """Bytes in, banner and messages out; the input may be split at any byte.

    Lines end with CRLF (a bare LF is accepted too); a blank line ends a message. Values are UTF-8
    (invalid bytes are replaced, never raised). ``Key:`` with or without the trailing space is an empty
    value. A value may contain colons (``RequestType: Action: Ping``): only the first one splits.
    """

    def __init__(self, expect_banner: bool = True) -> None:
        self._buf = bytearray()
        self._pairs: list[Pair] = []
        self._malformed = 0
        self._size = 0
        self.banner: str | None = None
        self._need_banner = expect_banner
        self.dropped = 0  # oversized garbage discarded, in bytes
        self.malformed_lines = 0  # lines without a colon (or with an empty key), over the whole stream

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        out: list[Message] = []
        while True:
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > MAX_FRAME_BYTES:
                    self.dropped += len(self._buf)
                    self._buf.clear()
                    self._reset()
                return out
            raw = bytes(self._buf[:end])
            del self._buf[: end + 1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            line = raw.decode("utf-8", errors="replace")
            if self._need_banner:
                self._need_banner = False
                if line.startswith("Asterisk Call Manager") or ":" not in line:
                    self.banner = line
                    continue
            message = self._line(line)
            if message is not None:
                out.append(message)

    def _line(self, line: str) -> Message | None:
        if line == "":
            if not self._pairs:  # stray blank lines between messages
                self._reset()
                return None
            message = Message(self._pairs, self._malformed)
            self._reset()
            return message
        self._size += len(line)
        if self._size > MAX_FRAME_BYTES:
            self.dropped += len(line)
            return None
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            self._malformed += 1
            self.malformed_lines += 1
            return None
        self._pairs.append((key.strip(), value[1:] if value.startswith(" ") else value))
        return None

    def _reset(self) -> None:
        self._pairs = []
        self._malformed = 0
        self._size = 0


def split_callerid(text: str) -> tuple[str, str]:
    """``"Name" <number>`` (the CallerID form, with backslash escapes in the quoted name) -> (name, number).

    >>> split_callerid('"O\\\\"Brien, Mary" <07700900123>')
    ('O"Brien, Mary', '07700900123')
    """
    text = text.strip()
    number = ""
    if text.endswith(">") and "<" in text:
        cut = text.rindex("<")
        number = text[cut + 1 : -1].strip()
        text = text[:cut].strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = "".join(_unescape(text[1:-1]))
    return text, number


def _unescape(text: str) -> Iterator[str]:
    chars = iter(text)
    for char in chars:
        yield next(chars, "") if char == "\\" else char


def join_callerid(name: str, number: str) -> str:
    """The CallerID header for Originate, quoting and escaping the name."""
    escaped = _clean(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}" <{_clean(number)}>'

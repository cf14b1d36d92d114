"""The AMI framing against the real transcripts captured from Asterisk 22 (../shared/fixtures/ami)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from cti.asterisk.protocol import FrameParser, Message, encode, join_callerid, md5_key, split_callerid

FIXTURES = Path("/work/shared/fixtures/ami")
if not FIXTURES.is_dir():  # the checkout's sibling, wherever it lives
    FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "ami"
TRANSCRIPTS = sorted(p for p in FIXTURES.glob("*.ami") if not p.name.endswith(".sent.ami"))
BANNER = b"Asterisk Call Manager/11.0.0\r\n"

pytestmark = pytest.mark.skipif(not TRANSCRIPTS, reason="AMI fixtures not found")


def readme_counts() -> dict[str, int]:
    """'NNN bytes, M messages after the banner.' per transcript, from the fixtures' README."""
    text = (FIXTURES / "README.md").read_text()
    out = {}
    for match in re.finditer(
        r"### `([\w.-]+)\.ami`.*?(\d+) bytes, (\d+) messages after the banner", text, re.S
    ):
        out[match.group(1)] = int(match.group(3))
    return out


def parse_all(data: bytes, chunks: list[int] | None = None) -> tuple[FrameParser, list[Message]]:
    parser = FrameParser()
    out: list[Message] = []
    if chunks is None:
        out.extend(parser.feed(data))
        return parser, out
    at = 0
    for size in chunks:
        out.extend(parser.feed(data[at : at + size]))
        at += size
    out.extend(parser.feed(data[at:]))
    return parser, out


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript_round_trips_byte_for_byte(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(BANNER) and b"\r\n\r\n" in data  # CRLF kept in the fixture as received
    parser, messages = parse_all(data)
    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert len(messages) == readme_counts()[path.stem]
    assert BANNER + b"".join(m.encode() for m in messages) == data
    assert all(m.malformed == 0 for m in messages)
    assert all(m.event is not None or m.response is not None for m in messages)
    # OriginateResponse is an event that also carries a Response header: the Event header decides.
    assert all(m.event == "OriginateResponse" for m in messages if m.event and m.response)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript_split_at_every_byte_boundary(path: Path) -> None:
    data = path.read_bytes()
    _, whole = parse_all(data)
    # One byte at a time puts a chunk boundary at every position of the stream at once.
    _, bytewise = parse_all(data, [1] * len(data))
    assert bytewise == whole
    rng = random.Random(path.stem)
    _, ragged = parse_all(data, [rng.randint(1, 700) for _ in range(len(data) // 300)])
    assert ragged == whole


@pytest.mark.parametrize("path", [p for p in TRANSCRIPTS if p.stat().st_size < 4000], ids=lambda p: p.stem)
def test_small_transcripts_split_in_two_at_every_boundary(path: Path) -> None:
    data = path.read_bytes()
    _, whole = parse_all(data)
    for cut in range(len(data) + 1):
        assert parse_all(data, [cut])[1] == whole, cut


def test_timeline_recv_concatenates_to_the_transcript() -> None:
    for path in TRANSCRIPTS:
        timeline = path.with_name(path.stem + ".timeline.jsonl").read_text().splitlines()
        recv = "".join(e["data"] for e in map(json.loads, timeline) if e["dir"] == "recv")
        assert recv.encode() == path.read_bytes()


def test_keys_are_case_insensitive_and_repeats_keep_their_order() -> None:
    _, messages = parse_all((FIXTURES / "01-queue-answered.ami").read_bytes())
    join = next(m for m in messages if m.event == "QueueCallerJoin")
    assert join.get("uniqueid") == join["Uniqueid"] == join.get("UNIQUEID")
    assert join.getall("chanvariable") == [
        "CTI_SERVICE=adult-social-care",
        f"CTI_CALL_REF=CC-{join['Uniqueid']}",
    ]
    assert join.variables() == {"CTI_SERVICE": "adult-social-care", "CTI_CALL_REF": f"CC-{join['Uniqueid']}"}
    assert join["AccountCode"] == ""  # sent as "AccountCode: " with the trailing space
    originate = next(m for m in messages if m.event == "OriginateResponse")
    # OriginateResponse puts the channel name inside the header name: ChanVariable(<channel>).
    assert originate.variables()["CTI_SERVICE"] == "adult-social-care"


def test_command_output_lines_repeat_including_empty_ones() -> None:
    _, messages = parse_all((FIXTURES / "04-queue-management.ami").read_bytes())
    reply = next(m for m in messages if m.get("Message") == "Command output follows")
    output = reply.getall("Output")
    assert output[0].startswith("adult-social-care has 1 calls")
    assert output[-2:] == ["", ""]


def test_values_with_colons_split_on_the_first_only() -> None:
    _, messages = parse_all((FIXTURES / "07b-protocol-errors.ami").read_bytes())
    denied = next(m for m in messages if m.event == "RequestNotAllowed")
    assert denied["RequestType"] == "Action: Ping"
    assert denied["AccountID"] == ""


def test_empty_value_without_trailing_space_utf8_and_bare_lf() -> None:
    data = "Event: Newchannel\r\nCallerIDName: Siân O\u2019Brien\r\nAccountCode:\r\nExten:  s\nKey:x\r\n\r\n"
    parser = FrameParser(expect_banner=False)
    (message,) = parser.feed(data.encode())
    assert message["CallerIDName"] == "Siân O\u2019Brien"
    assert message["AccountCode"] == ""
    assert message["Exten"] == " s"  # only the one space after the colon is the separator
    assert message["Key"] == "x"


def test_invalid_utf8_and_garbage_never_raise() -> None:
    parser = FrameParser()
    junk = (
        b"Asterisk Call Manager/11.0.0\r\n\xff\xfe garbage line\r\n: no key\r\nEvent: X\r\nName: \xc3\r\n\r\n"
    )
    (message,) = parser.feed(junk + b"\r\n\r\n\r\n")
    assert message.event == "X"
    assert message.malformed == 2
    assert message["Name"] == "\ufffd"
    # A flood with no newline is dropped rather than buffered for ever.
    assert parser.feed(b"x" * (2 << 20)) == []
    assert parser.dropped > 0
    assert parser.feed(b"\r\nEvent: Y\r\n\r\n")[0].event == "Y"


def test_values_are_never_able_to_inject_headers() -> None:
    assert encode([("CallerID", "Eve\r\nAction: Originate")]) == b"CallerID: Eve  Action: Originate\r\n\r\n"


def test_escaped_caller_names() -> None:
    header = join_callerid('Mary "Mo" O\\Brien', "07700900123")
    assert header == '"Mary \\"Mo\\" O\\\\Brien" <07700900123>'
    assert split_callerid(header) == ('Mary "Mo" O\\Brien', "07700900123")
    assert split_callerid('"Alice Caller" <07700900123>') == ("Alice Caller", "07700900123")
    assert split_callerid("<07700900123>") == ("", "07700900123")
    assert split_callerid("Unknown") == ("Unknown", "")


def test_md5_key_matches_the_captured_login() -> None:
    # 07c: Challenge 206177528, secret cti-secret, and the Key the real Asterisk accepted.
    assert md5_key("206177528", "cti-secret") == "f0e6c8a7f0471cc7d7479e02b1c7005d"

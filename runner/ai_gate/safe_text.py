"""Text that came in from outside (audit reasons, actors, record fields) made safe to
show: no character that can forge or hide terminal output."""

from __future__ import annotations


def is_unsafe_character(character: str) -> bool:
    """A character that can forge or hide terminal output: control characters (C0,
    DEL, C1), line and paragraph separators, and bidirectional overrides/isolates."""
    code = ord(character)
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or code in (0x2028, 0x2029)
        or 0x202A <= code <= 0x202E
        or 0x2066 <= code <= 0x2069
    )


def printable(text: str) -> str:
    """`text` with every unsafe character escaped (\\x1b, \\u202e): audit text that came
    in through SQL cannot forge a line of `flags history` or colour the terminal."""
    if not any(is_unsafe_character(character) for character in text):
        return text
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if is_unsafe_character(c)
        else c
        for c in text
    )

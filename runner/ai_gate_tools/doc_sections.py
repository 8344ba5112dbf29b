"""Generated sections of the documentation: each lives between `<!-- name -->` and
`<!-- /name -->` lines, so a generator can rewrite it and leave the prose around it."""

from __future__ import annotations

from pathlib import Path


def write_doc_section(path: Path, marker: str, markdown: str) -> None:
    """Put `markdown` between the document's `<!-- marker -->` lines (appended if none)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    begin, end = f"<!-- {marker} -->\n", f"<!-- /{marker} -->"
    if begin in text and end in text:
        text = text.split(begin)[0] + begin + markdown + end + text.split(end, 1)[1]
    else:
        text += f"\n{begin}{markdown}{end}\n"
    path.write_text(text, encoding="utf-8")

"""The look of every HTML page guidefund writes (the year-end page, the validation summaries of
the Data Docs): one self-contained page, inline style, no script, nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",SimSun,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:4px 8px}
th{background:#eee}td.num{text-align:right}svg text{font-size:12px}h1{font-size:22px}
.incomplete{color:#c0392b;font-weight:bold;border:2px solid #c0392b;padding:.5em 1em}
.ok{color:#2e8b57}.fail{color:#c0392b;font-weight:bold}a{color:#1f5fa8}nav{margin:0 0 1em}
"""


def page(title: str, body: str) -> str:
    """A whole page titled `title` around `body` (HTML)."""
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{CSS}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def table(ident: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of text cells (escaped) with the given id."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{ident}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

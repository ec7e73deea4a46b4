"""Reading an upload's multipart body with limits: a file part larger than the limit, more
files than allowed, or a declared body larger than all of them together ends the reading at
once (413), before the rest of the request is read. Files are kept in memory (each is at most
the limit, ~12 KB in practice)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

FIELD = "files"


class TooLarge(Exception):
    """The request carries more than the limits allow (413)."""


class BadForm(Exception):
    """The request is not a multipart form with files (400)."""


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Limits:
    file_bytes: int
    files: int

    @property
    def body_bytes(self) -> int:
        """What a full request may declare: every file at the limit, plus headers' room."""
        return self.files * self.file_bytes + 64 * 1024 * self.files


async def read_files(
    content_type: str, stream: AsyncIterator[bytes], limits: Limits
) -> list[tuple[str, bytes]]:
    """The (name as sent, bytes) of each part named `files` that carries a file."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise BadForm("请以 multipart/form-data 上传文件（表单字段 files）")
    parts: list[_Part] = []
    current = _Part()
    header = [b"", b""]
    disposition = b""
    other_bytes = 0

    def on_part_begin() -> None:
        nonlocal current, disposition
        current, disposition = _Part(), b""

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]
        if len(header[1]) > 8192:
            raise BadForm("表单头过长")

    def on_header_end() -> None:
        nonlocal disposition
        if header[0].lower() == b"content-disposition":
            disposition = header[1]
        header[0], header[1] = b"", b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(disposition)
        current.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            current.filename = options[b"filename"].decode("utf-8", "replace")
            if sum(p.filename is not None for p in parts) + 1 > limits.files:
                raise TooLarge(f"一次最多上传 {limits.files} 个文件")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal other_bytes
        if current.filename is None:
            other_bytes += end - start
            if other_bytes > 64 * 1024:
                raise TooLarge("表单内容过大")
            return
        current.data += data[start:end]
        if len(current.data) > limits.file_bytes:
            raise TooLarge(
                f"文件 {current.filename} 超过 {limits.file_bytes // (1 << 20)} MB 的上限，未接收"
            )

    def on_part_end() -> None:
        parts.append(current)

    parser = MultipartParser(
        params[b"boundary"],
        {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
         "on_header_value": on_header_value, "on_header_end": on_header_end,
         "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
         "on_part_end": on_part_end},  # type: ignore[arg-type]
    )  # fmt: skip
    try:
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise BadForm("上传的表单格式有误") from exc
    files = [
        (p.filename or "", bytes(p.data))
        for p in parts
        if p.name == FIELD and p.filename is not None
    ]
    return [(name, data) for name, data in files if name or data]

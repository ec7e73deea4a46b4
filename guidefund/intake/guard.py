"""The pre-parse guard: what a file's raw bytes may claim before any parser touches them.

Why it exists (../shared/MEASURED.md and the research behind issue 9): python-calamine builds a
*dense* grid from A1 to the furthest cell that holds something, 32 bytes a cell, so one value in
XFD1048576 asks for ~550 GB and aborts the process (SIGABRT, not an exception); values a few
hundred thousand rows down cost GBs; a 4 MB zip can hold 1 GB of sheet XML. None of that is
needed by a submission, whose template fills ~40 cells in five small sheets.

So, on the bytes alone and in this order:
* the container, by magic bytes: OOXML zip (.xlsx), legacy OLE2 .xls (read, bounded by the
  worker's limits only), an encrypted OLE2 package, or something that is not a workbook;
* the zip's central directory: the file size, the number of parts, every part's and the total
  unpacked size, and the compression ratio of every large part (decompression bombs), before
  anything is inflated;
* then each XML part, inflated at most to its declared size and CRC-checked: no DTD and no
  entity declaration anywhere (nothing is ever resolved), no external links, no macros; and for
  every worksheet its used range: the `<dimension>` it declares, every cell that holds content
  and every merged range must lie inside what the template can hold (settings read_max_rows and
  read_max_columns, never less than the template's own extent). Empty styled cells cost the
  reader nothing and are not counted.

Positions follow calamine's rules: a cell's `r` attribute, or when absent its place counted
from `<row>`/`<c>` elements. The common case (every cell has an A1-style `r`, no namespace
prefix, no comments or CDATA: what Excel, WPS, LibreOffice and openpyxl write) is scanned with
regular expressions at C speed; anything else goes through expat with the DTD handlers raising.

Pure standard library: `check` never raises for bad input; it returns None (may be parsed) or
the Refusal, worded for the unit in Chinese with the fix.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from xml.parsers import expat

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
MB = 1 << 20

# Rules (the `rule` of the file's one finding); all are fatal: nothing else is read.
NOT_WORKBOOK = "read.not_workbook"
FORMAT = "read.format"
ENCRYPTED = "read.encrypted"
MACROS = "read.macros"
EXTERNAL = "read.external_link"
ENTITIES = "read.entities"
TOO_LARGE = "read.too_large"
MALFORMED = "read.malformed"
RULES = frozenset(
    {NOT_WORKBOOK, FORMAT, ENCRYPTED, MACROS, EXTERNAL, ENTITIES, TOO_LARGE, MALFORMED}
)

_RESAVE = "请用科技厅下发的模板填写，在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx）后重新报送"


class Refusal(Exception):
    """Why a file is not parsed: `rule`, the Chinese `message` with the fix, and `detail`
    (the part, size or range that tripped it; shown as the finding's value)."""

    def __init__(self, rule: str, message: str, detail: str = ""):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """What a file may claim. `rows`/`columns` bound every sheet's used range from A1."""

    file_bytes: int = 20 * MB
    unpacked_bytes: int = 64 * MB
    ratio: int = 100
    parts: int = 200
    rows: int = 200
    columns: int = 26
    sheets: int = 32
    # Below this size a part's ratio is not judged: small XML compresses 20-50x legitimately.
    ratio_floor: int = 256 << 10

    @property
    def cells(self) -> int:
        """Cell elements one sheet part may hold: its whole range, four times over (styled
        empty cells, rows written twice by odd writers); more is refused before it is scanned."""
        return max(self.rows * self.columns * 4, 10_000)

    @property
    def strings(self) -> int:
        """Shared strings a workbook may hold: one per cell of every sheet's range."""
        return self.rows * self.columns * self.sheets


def sniff(data: bytes) -> str:
    """The container, by magic bytes: zip, xls, encrypted, pdf, html, xml, rtf, empty, unknown."""
    if not data:
        return "empty"
    head = data[:8]
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if head == OLE2_MAGIC:
        # An encrypted OOXML file is an OLE2 container with an EncryptedPackage stream; its
        # directory stores names in UTF-16LE, so a byte search finds it.
        return "encrypted" if _ENCRYPTED_PACKAGE in data else "xls"
    if head.startswith(b"%PDF"):
        return "pdf"
    low = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith((b"<?xml", b"<workbook", b"<ss:workbook")):
        return "xml"
    if low.startswith((b"<html", b"<!doctype html", b"<table")):
        return "html"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    return "unknown"


_KIND_NAMES = {
    "empty": "空文件（0 字节）",
    "pdf": "PDF 文件",
    "html": "网页（HTML）文件",
    "rtf": "RTF 文档",
    "unknown": "无法识别的文件",
}


def check(data: bytes, limits: Limits) -> Refusal | None:
    """None when `data` may be handed to the reader; else why not. Never raises."""
    try:
        _check(data, limits)
    except Refusal as refusal:
        return refusal
    except (RecursionError, MemoryError, ValueError, struct.error) as exc:
        return Refusal(MALFORMED, f"文件结构已损坏，无法读取；{_RESAVE}", type(exc).__name__)
    return None


def _check(data: bytes, limits: Limits) -> None:
    if len(data) > limits.file_bytes:
        raise Refusal(
            TOO_LARGE,
            f"文件大小 {_mb(len(data))}，超过上限 {_mb(limits.file_bytes)}；填报文件通常只有几十 KB，"
            f"请删除图片、附加工作表等多余内容后重新报送",
            f"{len(data)} bytes",
        )
    kind = sniff(data)
    if kind == "xls":
        return  # legacy BIFF: calamine reads it; the worker's memory and time limits bound it
    if kind == "encrypted":
        raise Refusal(
            ENCRYPTED,
            "文件设置了打开密码（已加密），无法读取；请取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新报送",
        )
    if kind == "xml":
        raise Refusal(
            FORMAT, f"文件是 XML 电子表格（Excel 2003 XML），不是 Excel 工作簿；{_RESAVE}"
        )
    if kind != "zip":
        name = _KIND_NAMES.get(kind, _KIND_NAMES["unknown"])
        raise Refusal(
            NOT_WORKBOOK,
            f"文件是{name}，不是 Excel 工作簿；请提交用科技厅模板填写的 .xlsx 文件",
            kind,
        )
    _check_zip(data, limits)


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.0f} KB"


def _eocd_entries(data: bytes) -> int | None:
    """The entry count the End Of Central Directory record states, before zipfile parses the
    directory (a zip claiming a million parts is refused without building a million ZipInfos)."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - (1 << 16) - 22))
    if pos < 0 or pos + 22 > len(data):
        return None
    return int.from_bytes(data[pos + 10 : pos + 12], "little")


def _too_many_parts(n: int, limits: Limits) -> Refusal:
    return Refusal(
        TOO_LARGE,
        f"工作簿包含 {n} 个内部部件，超过上限 {limits.parts} 个（正常的填报文件约 15 个）；{_RESAVE}",
        f"{n} parts",
    )


def _check_zip(data: bytes, limits: Limits) -> None:
    entries = _eocd_entries(data)
    if entries is not None and entries > limits.parts:
        raise _too_many_parts(entries, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise Refusal(
            MALFORMED,
            f"文件不是完整的 Excel 工作簿（压缩包已损坏或不完整）；{_RESAVE}",
            str(exc)[:80],
        ) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.parts:
            raise _too_many_parts(len(infos), limits)
        names: set[str] = set()
        total = 0
        xml_parts: list[zipfile.ZipInfo] = []
        for info in infos:
            norm = info.filename.replace("\\", "/").lower()
            if norm in names:
                # calamine looks parts up case-insensitively and keeps the later one: refuse
                # a file that two readers would see differently.
                raise Refusal(
                    MALFORMED,
                    f"工作簿内部部件重复（{info.filename}），文件已损坏；{_RESAVE}",
                    info.filename,
                )
            names.add(norm)
            if info.flag_bits & 0x1:
                raise Refusal(
                    ENCRYPTED, "工作簿内部部件已加密，无法读取；请取消密码后重新报送", info.filename
                )
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise Refusal(MALFORMED, f"工作簿使用了不支持的压缩方式；{_RESAVE}", info.filename)
            total += info.file_size
            if info.file_size > limits.ratio_floor:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.ratio:
                    raise Refusal(
                        TOO_LARGE,
                        f"工作簿内部部件 {info.filename} 压缩了 {ratio:.0f} 倍（上限 {limits.ratio} 倍），"
                        f"解压后达 {_mb(info.file_size)}，疑似压缩炸弹；{_RESAVE}",
                        f"{info.filename}: {ratio:.0f}x",
                    )
            # Every part is read: a worksheet is whatever part the workbook's relationships
            # point to, under any name (a sheet saved as 'sheet2.bin' is still read as one).
            xml_parts.append(info)
        if total > limits.unpacked_bytes:
            raise Refusal(
                TOO_LARGE,
                f"工作簿解压后共 {_mb(total)}，超过上限 {_mb(limits.unpacked_bytes)}；"
                f"请删除多余的行、工作表和图片后重新报送",
                f"{total} bytes unpacked",
            )
        _check_kind(names)
        names_of: dict[str, str] = {}

        def sheet_name(part: str) -> str:
            """The sheet's name for a message (looked up only when a refusal needs it)."""
            if not names_of:
                names_of.update(_sheet_names(zf, names) or {"": ""})
            return names_of.get(part, "")

        scanned = 0
        for info in xml_parts:
            if _scan_part(data, info, limits, sheet_name):
                scanned += 1
        if scanned > limits.sheets:
            raise Refusal(
                TOO_LARGE,
                f"工作簿包含 {scanned} 个工作表，超过上限 {limits.sheets} 个；{_RESAVE}",
                f"{scanned} sheets",
            )


def _check_kind(names: set[str]) -> None:
    """An OOXML workbook, and only that: not ODS, not .xlsb, no macros, no external links."""
    if "content.xml" in names or "mimetype" in names:
        raise Refusal(
            FORMAT, f"文件是 OpenDocument 表格（.ods），不是 Excel 工作簿；{_RESAVE}", "ods"
        )
    if "xl/workbook.bin" in names:
        raise Refusal(FORMAT, f"文件是 Excel 二进制工作簿（.xlsb）；{_RESAVE}", "xlsb")
    if "xl/workbook.xml" not in names:
        kind = (
            "docx"
            if "word/document.xml" in names
            else "pptx"
            if "ppt/presentation.xml" in names
            else "zip"
        )
        what = {"docx": "Word 文档", "pptx": "PowerPoint 演示文稿"}.get(kind, "压缩包")
        raise Refusal(
            NOT_WORKBOOK,
            f"文件是{what}，不是 Excel 工作簿；请提交用科技厅模板填写的 .xlsx 文件",
            kind,
        )
    if any(n.endswith("vbaproject.bin") for n in names):
        raise Refusal(
            MACROS,
            "工作簿包含宏（VBA），不予读取；请在 Excel 中“另存为”Excel 工作簿（.xlsx，不含宏）后重新报送",
            "vbaProject.bin",
        )
    if any(n.startswith("xl/externallinks/") for n in names):
        raise Refusal(
            EXTERNAL,
            "工作簿引用了其他文件（外部链接），不予读取；请在 Excel 中“数据→编辑链接→断开链接”，"
            "把引用改为数值后重新报送",
            "externalLinks",
        )


_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\s[^>]*>")
_ATTR = re.compile(rb'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\s[^>]*>")


def _sheet_names(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Worksheet part (lower case) → the sheet's name, for messages; best effort, never fatal
    (the parts are read again, bounded, by the scan)."""
    try:
        if (
            zf.getinfo("xl/workbook.xml").file_size > MB
            or "xl/_rels/workbook.xml.rels" not in names
        ):
            return {}
        rels = zf.getinfo("xl/_rels/workbook.xml.rels")
        if rels.file_size > MB:
            return {}
        workbook = zf.read("xl/workbook.xml")
        targets = {}
        for tag in _REL_TAG.findall(zf.read(rels)):
            attrs = {k: (a or b) for k, a, b in _ATTR.findall(tag)}
            target = attrs.get(b"Target", b"").decode("utf-8", "replace").lstrip("/")
            if not target.startswith("xl/"):
                target = "xl/" + target
            targets[attrs.get(b"Id", b"")] = target.lower()
        out = {}
        for tag in _SHEET_TAG.findall(workbook):
            attrs = {k.split(b":")[-1]: (a or b) for k, a, b in _ATTR.findall(tag)}
            part = targets.get(attrs.get(b"id", b""))
            if part:
                out[part] = attrs.get(b"name", b"").decode("utf-8", "replace")
        return out
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        return {}


def _read_part(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The part's bytes, inflated straight from the archive, never beyond its declared size,
    CRC-checked: a part whose real size or content differs from the directory is refused."""
    off = info.header_offset
    if data[off : off + 4] != b"PK\x03\x04":
        raise Refusal(
            MALFORMED, f"文件不是完整的 Excel 工作簿（压缩包已损坏）；{_RESAVE}", info.filename
        )
    name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
    start = off + 30 + name_len + extra_len
    payload = data[start : start + info.compress_size]
    if len(payload) != info.compress_size:
        raise Refusal(
            MALFORMED, "文件不完整（可能未下载或复制完）；请重新报送完整的文件", info.filename
        )
    if info.compress_type == zipfile.ZIP_STORED:
        raw = payload
    else:
        try:
            raw = zlib.decompressobj(-15).decompress(payload, info.file_size + 1)
        except zlib.error:
            raise Refusal(
                MALFORMED, f"文件不是完整的 Excel 工作簿（压缩包已损坏）；{_RESAVE}", info.filename
            ) from None
    if len(raw) != info.file_size or zlib.crc32(raw) != info.CRC:
        raise Refusal(
            MALFORMED,
            f"文件不是完整的 Excel 工作簿（压缩包内容与目录不符）；{_RESAVE}",
            info.filename,
        )
    return raw


def _scan_part(
    data: bytes, info: zipfile.ZipInfo, limits: Limits, sheet_name: Callable[[str], str]
) -> bool:
    """Check one XML part; True when it is a worksheet (holds <sheetData>)."""
    raw = _read_part(data, info)
    if not raw:
        return False
    named_xml = info.filename.lower().endswith(_XML_SUFFIXES)
    if not named_xml and b"sheetData" not in raw and b"<!" not in raw[:4096]:
        return False  # an image or another binary part: nothing a reader parses as XML
    _require_utf8(raw[:256], info.filename)
    if _MARKUP_DECL.search(raw):
        raise Refusal(
            ENTITIES,
            f"工作簿内部部件 {info.filename} 含有 DTD/实体声明（<!DOCTYPE>/<!ENTITY>），"
            f"这不是 Excel 会写出的内容，不予读取；{_RESAVE}",
            info.filename,
        )
    name = info.filename.replace("\\", "/").lower()
    if name == "xl/sharedstrings.xml":
        n = raw.count(b"<si>") + raw.count(b"<si ") + raw.count(b":si>") + raw.count(b":si ")
        if n > limits.strings:
            raise Refusal(
                TOO_LARGE,
                f"工作簿的共享字符串有 {n} 条，超过上限 {limits.strings} 条；请删除模板以外的内容后重新报送",
                f"{n} shared strings",
            )
        return False
    if b"sheetData" not in raw or not _SHEETDATA.search(raw):
        return False
    cells = raw.count(b"<c") + raw.count(b":c ")
    if cells > limits.cells:
        sheet = sheet_name(name) or info.filename
        raise Refusal(
            TOO_LARGE,
            f"工作表“{sheet}”包含 {cells} 个单元格，远超模板（最多 {limits.rows} 行 × {limits.columns} 列）；"
            f"请删除模板以外区域的内容后重新报送",
            f"{sheet}: {cells} cells",
        )
    extent = _fast_extent(raw, limits) or _exact_extent(raw, info.filename)
    _check_extent(extent, limits, lambda: sheet_name(name) or info.filename)
    return True


@dataclass
class Extent:
    """What the scan saw in one worksheet (0-based; -1 = nothing): the furthest cell that holds
    something (what sizes the reader's grid), the declared <dimension> and the merged ranges."""

    value_row: int = -1
    value_col: int = -1
    dimension: str | None = None
    merges: tuple[str, ...] = ()


def _check_extent(e: Extent, limits: Limits, sheet_of: Callable[[], str]) -> None:
    def refuse(where: str, what: str) -> Refusal:
        sheet = sheet_of()
        return Refusal(
            TOO_LARGE,
            f"工作表“{sheet}”的{what}到达 {where}，超出模板范围（最多 {limits.rows} 行、"
            f"{column_letters(limits.columns - 1)} 列）；请删除模板以外区域的内容（整行整列删除）后重新保存报送",
            f"{sheet}!{where}",
        )

    if e.value_row >= limits.rows or e.value_col >= limits.columns:
        raise refuse(column_letters(e.value_col) + str(e.value_row + 1), "有内容的区域")
    if e.dimension:
        for corner in e.dimension.split(":"):
            row, col = parse_ref(corner)
            if row >= limits.rows or col >= limits.columns:
                raise refuse(e.dimension, "已用区域")
    for ref in e.merges:
        for corner in ref.split(":"):
            row, col = parse_ref(corner)
            if row >= limits.rows or col >= limits.columns:
                raise refuse(ref, "合并单元格")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def column_letters(col: int) -> str:
    """0 → 'A', 25 → 'Z', 26 → 'AA'."""
    s, col = "", col + 1
    while col > 0:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def parse_ref(ref: str) -> tuple[int, int]:
    """'B12' → (11, 1); anything the reader might place differently is refused."""
    m = _REF.match(ref.strip())
    if not m:
        raise Refusal(
            MALFORMED, f"工作表中的单元格地址“{ref[:40]}”无效，文件已损坏；{_RESAVE}", ref[:40]
        )
    return int(m.group(2)) - 1, col_index(m.group(1))


def _require_utf8(head: bytes, part: str) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\0", b"\0<"):
        raise Refusal(MALFORMED, f"工作簿内部部件 {part} 不是 UTF-8 编码；{_RESAVE}", part)
    low = head[:200].lower()
    if low.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")):
        m = re.search(rb'encoding\s*=\s*["\']([^"\']+)', low.split(b"?>", 1)[0])
        if m and m.group(1) not in (b"utf-8", b"utf8"):
            raise Refusal(MALFORMED, f"工作簿内部部件 {part} 不是 UTF-8 编码；{_RESAVE}", part)


# --------------------------------------------------------------------------- worksheet extent

_SHEETDATA = re.compile(rb"<(?:[^\s/>:<]+:)?sheetData[\s/>]")
_MARKUP_DECL = re.compile(rb"<!(?!--|\[CDATA\[)")  # <!DOCTYPE, <!ENTITY, <!ELEMENT ..., any case
_ODD_MARKUP = re.compile(rb"<!--|<!\[CDATA\[|<\?")
_PFX = rb"(?:[^\s/>:<]+:)?"
_CELL_R = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[\s/>]')
_WHITESPACE = bytes.maketrans(b"\t\r\n", b"   ")
_CELL_PREFIXED = re.compile(rb":c[\s/>]")
_MERGE = re.compile(
    rb"<" + _PFX + rb"mergeCell\s[^<>]*?(?<=\s)ref\s*=\s*(?:\"([^\"]*)\"|'([^']*)')"
)
_MERGE_ANY = re.compile(rb"<" + _PFX + rb"mergeCell[\s/>]")
_DIMENSION = re.compile(
    rb"<" + _PFX + rb"dimension\s[^<>]*?(?<=\s)ref\s*=\s*(?:\"([^\"]*)\"|'([^']*)')"
)


@lru_cache(maxsize=4096)
def _col(letters: bytes) -> int:
    return col_index(letters.decode("ascii"))


def _attribute_refs(raw: bytes, pattern: re.Pattern[bytes]) -> tuple[str, ...]:
    return tuple(
        (m.group(1) or m.group(2)).decode("ascii", "replace") for m in pattern.finditer(raw)
    )


def _fast_extent(raw: bytes, limits: Limits) -> Extent | None:
    """Regular-expression scan for plain unprefixed XML in which every cell starts `<c r="A1"`
    (what Excel, WPS, LibreOffice and openpyxl write): the extent of *every* cell, empty ones
    included, an upper bound of the valued ones. None when it cannot be sure (comments, CDATA
    or processing instructions that could hide or fake tags, prefixed cells, a cell without r or
    with r elsewhere or twice) or when some cell lies outside the limits: the caller then runs
    the exact expat scan, which tells valued cells from empty styled ones."""
    body = raw.find(b"?>") + 2 if raw.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml") else 0
    if _ODD_MARKUP.search(raw, body) or _CELL_PREFIXED.search(raw):
        return None
    norm = raw.translate(_WHITESPACE)
    refs = _CELL_R.findall(raw)
    if len(refs) != norm.count(b"<c ") + norm.count(b"<c>") + norm.count(b"<c/"):
        return None  # a cell without r, or with r not first
    rows = norm.count(b"<row r=")
    if rows != norm.count(b"<row ") or b" r " in norm or norm.count(b" r=") != len(refs) + rows:
        return None  # an r attribute elsewhere: twice in a tag, spaced out, inside a value
    e = Extent()
    if refs:
        e.value_row = max(int(row) for _, row in refs) - 1
        e.value_col = max(_col(col) for col in {col for col, _ in refs})
        if e.value_row >= limits.rows or e.value_col >= limits.columns:
            return None
    if b"dimension" in raw and (m := _DIMENSION.search(raw)):
        e.dimension = (m.group(1) or m.group(2)).decode("ascii", "replace")
    if b"mergeCell" in raw:
        e.merges = _attribute_refs(raw, _MERGE)
        if len(e.merges) != len(_MERGE_ANY.findall(raw)):
            return None  # a mergeCell the pattern cannot read (a '>' inside a value): expat
    return e


class _Scan:
    """expat handlers placing cells as calamine does (r, or counted from <row>/<c>)."""

    def __init__(self, part: str):
        self.part = part
        self.e = Extent()
        self.merges: list[str] = []
        self.in_data = False
        self.row = 0
        self.col = 0
        self.cell: tuple[int, int] | None = None
        self.has_child = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1]
        if self.cell is not None:  # any child (<v>, <is>, <f>, …) may give the cell a value
            self.has_child = True
            return
        if not self.in_data:
            if local == "sheetData":
                self.in_data = True
            elif local == "dimension" and self.e.dimension is None:
                self.e.dimension = attrs.get("ref")
            elif local == "mergeCell" and "ref" in attrs:
                self.merges.append(attrs["ref"])
            return
        if local == "row":
            r = attrs.get("r")
            if r is not None:
                if not r.isdigit() or len(r) > 7:
                    raise Refusal(
                        MALFORMED, f"工作表中的行号“{r[:20]}”无效，文件已损坏；{_RESAVE}", self.part
                    )
                self.row = int(r) - 1
        elif local == "c":
            r = attrs.get("r")
            if r is not None:
                row, self.col = parse_ref(r)
                self.cell = (row, self.col)
            else:
                self.cell = (self.row, self.col)
            self.has_child = False

    def end(self, name: str) -> None:
        local = name.rsplit(":", 1)[-1]
        if self.cell is not None:
            if local != "c":
                return
            row, col = self.cell
            self.cell = None
            self.col += 1
            if self.has_child:
                self.e.value_row = max(self.e.value_row, row)
                self.e.value_col = max(self.e.value_col, col)
            return
        if self.in_data and local == "row":
            self.row += 1
            self.col = 0
        elif local == "sheetData":
            self.in_data = False

    def doctype(self, *_: object) -> None:
        raise Refusal(
            ENTITIES,
            f"工作簿内部部件 {self.part} 含有 DTD/实体声明，不予读取；{_RESAVE}",
            self.part,
        )


def _exact_extent(raw: bytes, part: str) -> Extent:
    scan = _Scan(part)
    p = expat.ParserCreate()
    p.StartDoctypeDeclHandler = scan.doctype
    p.EntityDeclHandler = scan.doctype
    p.ExternalEntityRefHandler = scan.doctype
    p.StartElementHandler = scan.start
    p.EndElementHandler = scan.end
    try:
        p.Parse(raw, True)
    except expat.ExpatError as exc:
        raise Refusal(
            MALFORMED,
            f"工作簿内部部件 {part} 不是有效的 XML，文件已损坏；{_RESAVE}",
            f"{part}: {exc}"[:120],
        ) from None
    scan.e.merges = tuple(scan.merges)
    return scan.e

"""The hostile corpus, built in code (issue 9): every kind of file and inbox entry a nightly run
can meet that is not a plain good submission, each with the one outcome it must get.

A case writes its entry under the inbox (`make`), and says what the run must record for it:
the outcome (a receipt state, or skipped / refused for entries that are not read), the rule of
the file's first finding when it is rejected, and a piece of the Chinese text the unit or the
staff are shown. Good files come from `quirks.submission_file` (a valid annual report of one
plan project, written by openpyxl); hostile ones are that file changed in one way, mostly by
editing its zip and XML directly, since no spreadsheet program writes them.

Each accepted variant is a different plan project (101–120), so that no two of them are
versions of one another; the good files of the mixed night are the samples of projects 1–100.
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from guidefund.reference import Reference

from .quirks import _sheet_xml, submission_file

SECRET = "OUTSIDE-SECRET-7c41e9"  # in a file outside the inbox: must never reach any output

ACCEPTED, REJECTED, DUPLICATE, SUPERSEDED = "accepted", "rejected", "duplicate", "superseded"
SKIPPED, REFUSED = "skipped", "refused"


@dataclass(frozen=True)
class Case:
    """One entry of the hostile inbox and what the run must record for it."""

    name: str  # path inside the inbox; a trailing '/' for a directory
    kind: str
    outcome: str
    rule: str = ""
    says: str = ""
    make: Callable[[Path], None] = lambda path: None


# ------------------------------------------------------------------------------ zip surgery


def rezip(
    base: bytes,
    replace: dict[str, bytes] | None = None,
    add: list[tuple[str, bytes]] | None = None,
    level: int = 6,
) -> bytes:
    """`base` with parts replaced (or added when absent) and parts added (in order,
    duplicates allowed)."""
    replace = replace or {}
    out = io.BytesIO()
    with (
        warnings.catch_warnings(action="ignore", category=UserWarning),  # duplicate names
        zipfile.ZipFile(io.BytesIO(base)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst,
    ):
        names = set(src.namelist())
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, data in [*((n, d) for n, d in replace.items() if n not in names), *(add or [])]:
            dst.writestr(name, data)
    return out.getvalue()


def part(base: bytes, sheet: str) -> str:
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        return _sheet_xml(z, sheet)


def read_part(base: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(base)) as z:
        return z.read(name)


def edit_sheet(base: bytes, sheet: str, edit: Callable[[bytes], bytes]) -> bytes:
    name = part(base, sheet)
    return rezip(base, {name: edit(read_part(base, name))})


def set_cell(xml: bytes, cell: str, inner: str, kind: str | None = None) -> bytes:
    """Replace cell `cell` (present in every template row) with raw content `inner`."""
    t = f' t="{kind}"' if kind else ""
    pattern = re.compile(rb'<c r="' + cell.encode() + rb'"(?:[^>]*?/>|[^>]*?>.*?</c>)', re.S)
    new, n = pattern.subn(f'<c r="{cell}"{t}>{inner}</c>'.encode(), xml, count=1)
    assert n == 1, cell
    return new


def append_rows(xml: bytes, rows: bytes) -> bytes:
    assert b"</sheetData>" in xml
    return xml.replace(b"</sheetData>", rows + b"</sheetData>", 1)


def inline(text: str) -> str:
    return f"<is><t>{text}</t></is>"


def patch_member(data: bytes, member: str, field: str, value: int) -> bytes:
    """Change a member's declared uncompressed size ('size') or general flags ('flags') in
    both its local header and its central directory entry."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(member)
    local, central, fmt = {"size": (22, 24, "<I"), "flags": (6, 8, "<H")}[field]
    struct.pack_into(fmt, buf, info.header_offset + local, value)
    pos = 0
    name = member.encode()
    while (pos := buf.find(b"PK\x01\x02", pos)) >= 0:
        n = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46 : pos + 46 + n]) == name:
            struct.pack_into(fmt, buf, pos + central, value)
            return bytes(buf)
        pos += 4
    raise AssertionError(member)


def ooxml(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def far(cell: str) -> Callable[[bytes], bytes]:
    """A sheet edit: one value in `cell`, in a row of its own."""
    row = re.sub(r"[A-Z]+", "", cell)
    xml = f'<row r="{row}"><c r="{cell}" t="inlineStr">{inline("x")}</c></row>'
    return lambda x: append_rows(x, xml.encode())


def merge_everything(xml: bytes) -> bytes:
    merged = b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
    return xml.replace(b"</sheetData>", merged, 1)


def huge_dimension(xml: bytes) -> bytes:
    return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml, count=1)


def bomb(base: bytes) -> bytes:
    """30 MB of empty rows in one sheet, deflated to a few tens of KB."""
    name = part(base, "基本信息")
    rows = read_part(base, name).replace(b"</sheetData>", b"<row/>" * 5_000_000 + b"</sheetData>")
    return rezip(base, {name: rows}, level=9)


def sheet_named_bin(base: bytes) -> bytes:
    """基本信息 stored as 'sheet2.bin' (the workbook's relationships point to it) with a value
    in XFD1048576: a worksheet is what the relationships say, whatever its name."""
    name = part(base, "基本信息")
    sheet = far("XFD1048576")(read_part(base, name))
    rels = read_part(base, "xl/_rels/workbook.xml.rels").replace(b"sheet2.xml", b"sheet2.bin")
    types = read_part(base, "[Content_Types].xml").replace(b"sheet2.xml", b"sheet2.bin")
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = {
                name: sheet,
                "xl/_rels/workbook.xml.rels": rels,
                "[Content_Types].xml": types,
            }.get(info.filename, src.read(info.filename))
            dst.writestr(
                name.replace(".xml", ".bin") if info.filename == name else info.filename, data
            )
    return out.getvalue()


def million_rows() -> bytes:
    return b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(20, 1_000_020)
    )


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    b'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# ------------------------------------------------------------------------------ the corpus


class Corpus:
    """Builds the hostile cases for one inbox; `outside` is a directory outside it holding the
    secret file the symlinks, entities and links point at."""

    def __init__(self, ref: Reference, scratch: Path, outside: Path):
        self.ref = ref
        self.scratch = scratch
        self.outside = outside
        outside.mkdir(parents=True, exist_ok=True)
        self.secret = outside / "secret.txt"
        self.secret.write_text(f"{SECRET}\n", encoding="utf-8")
        scratch.mkdir(parents=True, exist_ok=True)
        self._base: dict[int, bytes] = {}

    def good(self, no: int) -> bytes:
        """A valid annual report of plan project `no`."""
        if no not in self._base:
            path = submission_file(self.ref, no, self.scratch / f"good-{no}.xlsx")
            self._base[no] = path.read_bytes()
        return self._base[no]

    def xls_sources(self) -> list[Path]:
        """What LibreOffice turns into .xls: a good file, and one with a value in IV65536
        (the last cell an .xls holds), which only the worker's memory limit can stop."""
        from .quirks import edit

        good = self.scratch / "good-101.xlsx"
        submission_file(self.ref, 101, good)
        far = submission_file(self.ref, 102, self.scratch / "far-102.xlsx")
        edit(far, "基本信息", IV65536="x")
        return [good, far]

    @staticmethod
    def bytes_at(data: bytes | Callable[[], bytes]) -> Callable[[Path], None]:
        def make(path: Path) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data() if callable(data) else data)

        return make

    def cases(self, xls_dir: Path | None) -> list[Case]:
        b = self.bytes_at
        base = self.good(1)
        basic = "基本信息"
        funds = "资金情况"
        out: list[Case] = []

        def add(name: str, kind: str, outcome: str, rule: str, says: str, make) -> None:  # type: ignore[no-untyped-def]
            out.append(Case(name, kind, outcome, rule, says, make))

        # -- not a workbook
        nw = "not_workbook"
        add("nw_empty.xlsx", nw, REJECTED, "read.not_workbook", "空文件", b(b""))
        add(
            "nw_pdf.xlsx",
            nw,
            REJECTED,
            "read.not_workbook",
            "PDF",
            b(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"),
        )
        add(
            "nw_random.xlsx",
            nw,
            REJECTED,
            "read.not_workbook",
            "无法识别",
            b(random.Random(9).randbytes(5000)),
        )
        add(
            "nw_html.xls",
            nw,
            REJECTED,
            "read.not_workbook",
            "网页",
            b(b"<html><body><table><tr><td>46</td></tr></table></body></html>"),
        )
        add(
            "nw_text.xlsx",
            nw,
            REJECTED,
            "read.not_workbook",
            "不是 Excel 工作簿",
            b("项目序号,46\n".encode()),
        )
        docx = ooxml({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
        add("nw_docx.xlsx", nw, REJECTED, "read.not_workbook", "Word", b(docx))
        add(
            "nw_zip.xlsx",
            nw,
            REJECTED,
            "read.not_workbook",
            "压缩包",
            b(ooxml({"readme.txt": b"hello"})),
        )
        add(
            "nw_truncated.xlsx", nw, REJECTED, "read.malformed", "不完整", b(base[: len(base) // 2])
        )

        # -- other formats
        fm = "format"
        if xls_dir is not None:
            add("fmt_legacy.xls", fm, ACCEPTED, "", "", b((xls_dir / "good-101.xls").read_bytes()))
            add(
                "fmt_xls_far.xls",
                fm,
                REJECTED,
                "read.crashed",
                "异常终止",
                b((xls_dir / "far-102.xls").read_bytes()),
            )
        vba = rezip(self.good(103), add=[("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0fake vba")])
        add("fmt_macro.xlsm", fm, REJECTED, "read.macros", "宏", b(vba))
        ods = ooxml(
            {
                "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                "content.xml": b"<office:document-content/>",
            }
        )
        add("fmt_ods.ods", fm, REJECTED, "read.format", "OpenDocument", b(ods))
        encrypted = OLE2 + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 4096
        add("fmt_encrypted.xlsx", fm, REJECTED, "read.encrypted", "密码", b(encrypted))
        xlsb = ooxml(
            {
                "[Content_Types].xml": b"<Types/>",
                "_rels/.rels": b"<Relationships/>",
                "xl/workbook.bin": b"\x83\x01",
            }
        )
        add("fmt_xlsb.xlsb", fm, REJECTED, "read.format", "xlsb", b(xlsb))
        xml2003 = (
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>'
        )
        add("fmt_xml2003.xls", fm, REJECTED, "read.format", "XML 电子表格", b(xml2003))
        add(
            "fmt_zipcrypto.xlsx",
            fm,
            REJECTED,
            "read.encrypted",
            "加密",
            b(patch_member(base, part(base, basic), "flags", 0x1)),
        )

        # -- resource exhaustion
        rx = "exhaustion"
        add(
            "big_far_cell.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "XFD1048576",
            b(edit_sheet(base, basic, far("XFD1048576"))),
        )
        add(
            "big_row_300000.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "Z300000",
            b(edit_sheet(base, basic, far("Z300000"))),
        )
        implicit = b'<row r="17">' + b"<c><v>1</v></c>" * 16384 + b"</row>"
        add(
            "big_implicit_cells.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "XFD17",
            b(edit_sheet(base, basic, lambda x: append_rows(x, implicit))),
        )
        add(
            "big_merge.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "合并单元格",
            b(edit_sheet(base, basic, merge_everything)),
        )
        add(
            "big_dimension.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "已用区域",
            b(edit_sheet(base, basic, huge_dimension)),
        )
        add("big_bomb.xlsx", rx, REJECTED, "read.too_large", "压缩炸弹", b(lambda: bomb(base)))
        add("big_sheet_named_bin.xlsx", rx, REJECTED, "read.too_large", "XFD1048576",
            b(sheet_named_bin(base)))  # fmt: skip
        strings = (
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + b"".join(b"<si><t>%d</t></si>" % i for i in range(200_000))
            + b"</sst>"
        )
        add(
            "big_shared_strings.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "共享字符串",
            b(lambda: rezip(base, {"xl/sharedStrings.xml": strings})),
        )
        add(
            "big_million_rows.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "单元格",
            b(lambda: edit_sheet(base, basic, lambda x: append_rows(x, million_rows()))),
        )
        add(
            "big_many_parts.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "内部部件",
            b(lambda: rezip(base, add=[(f"xl/media/p{i}.bin", b"") for i in range(5000)])),
        )
        add(
            "big_file.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "文件大小",
            b(lambda: b"PK\x03\x04" + b"\0" * (21 << 20)),
        )
        add(
            "big_lying_size.xlsx",
            rx,
            REJECTED,
            "read.malformed",
            "不符",
            b(patch_member(base, part(base, basic), "size", 9000)),
        )
        prefixed = (
            b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<x:sheetData><x:row r="1"><x:c r="B1" t="inlineStr"><x:is><x:t>y</x:t></x:is></x:c>'
            b'</x:row><x:row r="900000"><x:c r="E900000"><x:v>1</x:v></x:c></x:row></x:sheetData>'
            b"</x:worksheet>"
        )
        add(
            "big_prefixed.xlsx",
            rx,
            REJECTED,
            "read.too_large",
            "E900000",
            b(rezip(base, {part(base, basic): prefixed})),
        )

        # -- XML tricks
        xt = "xml"
        book = read_part(base, "xl/workbook.xml")
        doctype = b'<!DOCTYPE workbook [<!ENTITY e "x">]>' + book
        add(
            "xml_doctype.xlsx",
            xt,
            REJECTED,
            "read.entities",
            "DTD",
            b(rezip(base, {"xl/workbook.xml": doctype})),
        )
        add(
            "xml_billion_laughs.xlsx",
            xt,
            REJECTED,
            "read.entities",
            "实体",
            b(rezip(base, {"xl/sharedStrings.xml": BILLION_LAUGHS})),
        )

        def xxe(x: bytes) -> bytes:
            entity = f'<!DOCTYPE worksheet [<!ENTITY s SYSTEM "file://{self.secret}">]>'
            return set_cell(entity.encode() + x, "C15", inline("&s;"), "inlineStr")

        add(
            "xml_external_entity.xlsx",
            xt,
            REJECTED,
            "read.entities",
            "DTD",
            b(edit_sheet(base, basic, xxe)),
        )
        link = b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></externalLink>'
        link_rels = f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" Target="file://{self.secret}" TargetMode="External"/></Relationships>'.encode()
        add(
            "xml_external_link.xlsx",
            xt,
            REJECTED,
            "read.external_link",
            "外部链接",
            b(
                rezip(
                    base,
                    add=[
                        ("xl/externalLinks/externalLink1.xml", link),
                        ("xl/externalLinks/_rels/externalLink1.xml.rels", link_rels),
                    ],
                )
            ),
        )
        sheet = part(base, basic)
        add(
            "xml_duplicate_part.xlsx",
            xt,
            REJECTED,
            "read.malformed",
            "重复",
            b(rezip(base, add=[(sheet, far("E300000")(read_part(base, sheet)))])),
        )
        utf16 = (
            read_part(base, sheet)
            .decode("utf-8")
            .replace('encoding="UTF-8"', 'encoding="UTF-16"')
            .encode("utf-16")
        )
        add(
            "xml_utf16.xlsx",
            xt,
            REJECTED,
            "read.malformed",
            "UTF-8",
            b(rezip(base, {sheet: utf16})),
        )
        add(
            "xml_not_well_formed.xlsx",
            xt,
            REJECTED,
            "read.malformed",
            "不是有效的 XML",
            b(
                edit_sheet(
                    base,
                    basic,
                    lambda x: x.replace(b"</sheetData>", b"<row><c><v>1</sheetData>", 1),
                )
            ),
        )

        # -- hostile values
        hv = "value"
        neg = self.good(2)
        add(
            "val_formula_text.xlsx",
            hv,
            REJECTED,
            "read.number",
            "HYPERLINK",
            b(
                edit_sheet(
                    neg,
                    funds,
                    lambda x: set_cell(
                        x, "C9", inline('=HYPERLINK("http://evil.example","点此")'), "inlineStr"
                    ),
                )
            ),
        )
        add(
            "val_formula_cached.xlsx",
            hv,
            ACCEPTED,
            "",
            "",
            b(
                edit_sheet(
                    self.good(104),
                    "绩效指标",
                    lambda x: set_cell(x, "C9", "<f>10+2.5</f><v>12.5</v>"),
                )
            ),
        )
        add(
            "val_control_in_number.xlsx",
            hv,
            REJECTED,
            "read.number",
            "应填写数字",
            b(
                edit_sheet(
                    neg, funds, lambda x: set_cell(x, "C5", inline("12_x0007_34"), "inlineStr")
                )
            ),
        )
        add(
            "val_control_in_text.xlsx",
            hv,
            ACCEPTED,
            "",
            "",
            b(
                edit_sheet(
                    self.good(105),
                    basic,
                    lambda x: set_cell(x, "C15", inline("王_x0007_芳_x001B_[2J"), "inlineStr"),
                )
            ),
        )
        add(
            "val_overlong_contact.xlsx",
            hv,
            REJECTED,
            "read.text_too_long",
            "最多 100 个字符",
            b(
                edit_sheet(
                    neg, basic, lambda x: set_cell(x, "C15", inline("长" * 40_000), "inlineStr")
                )
            ),
        )
        add(
            "val_overlong_reason.xlsx",
            hv,
            ACCEPTED,
            "",
            "",
            b(
                edit_sheet(
                    self.good(106),
                    "自评",
                    lambda x: set_cell(x, "C5", inline("原因" * 15_000), "inlineStr"),
                )
            ),
        )
        add(
            "val_nan.xlsx",
            hv,
            REJECTED,
            "",
            "",
            b(edit_sheet(neg, funds, lambda x: set_cell(x, "C4", "<v>NaN</v>"))),
        )
        add(
            "val_infinity.xlsx",
            hv,
            REJECTED,
            "",
            "",
            b(edit_sheet(neg, funds, lambda x: set_cell(x, "C4", "<v>1e999</v>"))),
        )
        add(
            "val_huge_number.xlsx",
            hv,
            REJECTED,
            "read.number_out_of_range",
            "数值过大",
            b(edit_sheet(neg, funds, lambda x: set_cell(x, "C4", "<v>1E+20</v>"))),
        )
        add(
            "val_error_value.xlsx",
            hv,
            REJECTED,
            "",
            "",
            b(edit_sheet(neg, funds, lambda x: set_cell(x, "C5", "<v>#DIV/0!</v>", "e"))),
        )
        add(
            "val_negative.xlsx",
            hv,
            REJECTED,
            "funds_non_negative",
            "不能为负数",
            b(edit_sheet(neg, funds, lambda x: set_cell(x, "C5", "<v>-5</v>"))),
        )

        # -- hostile names
        hn = "name"
        add("name\x01ctrl\x1b[31m.xlsx", hn, ACCEPTED, "", "", b(self.good(107)))
        add("=1+1.xlsx", hn, ACCEPTED, "", "", b(self.good(108)))
        add("@SUM(A1)+cmd.xlsx", hn, ACCEPTED, "", "", b(self.good(109)))
        add("C:\\Users\\unit\\..\\110.xlsx", hn, ACCEPTED, "", "", b(self.good(110)))
        add("..\\..\\etc\\passwd.xlsx", hn, SKIPPED, "", "隐藏文件", b(self.good(110)))
        add("new\nline.xlsx", hn, ACCEPTED, "", "", b(self.good(111)))
        add(
            "L" * 245 + ".xlsx",
            hn,
            REJECTED,
            "funds_non_negative",
            "不能为负数",
            b(edit_sheet(self.good(112), funds, lambda x: set_cell(x, "C5", "<v>-1</v>"))),
        )

        def undecodable(path: Path) -> None:
            raw = os.fsencode(path.parent) + b"/bad\xff\xfename.xlsx"
            with open(raw, "wb") as fh:
                fh.write(self.good(113))

        add("bad\ufffd\ufffdname.xlsx", hn, REFUSED, "", "UTF-8", undecodable)

        # -- inbox oddities
        io_ = "inbox"
        add("~$046.xlsx", io_, SKIPPED, "", "锁定文件", b(b"\x00" * 165))
        add(".~lock.046.xlsx#", io_, SKIPPED, "", "锁定文件", b(b"user,host,2024"))
        add("046.xlsx.crdownload", io_, SKIPPED, "", "临时文件", b(base[:100]))
        add(".hidden.xlsx", io_, SKIPPED, "", "隐藏文件", b(self.good(3)))
        add("Thumbs.db", io_, SKIPPED, "", "系统文件", b(b"\0" * 64))
        add("old.xlsx.errors.xlsx", io_, SKIPPED, "", "问题清单", b(b"PK"))
        add("unitA/114.xlsx", io_, ACCEPTED, "", "", b(self.good(114)))
        add(
            "unitA/sub/bad.xlsx",
            io_,
            REJECTED,
            "funds_non_negative",
            "不能为负数",
            b(edit_sheet(neg, funds, lambda x: set_cell(x, "C5", "<v>-7</v>"))),
        )

        def symlink(target: Callable[[Path], Path]) -> Callable[[Path], None]:
            def make(path: Path) -> None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.symlink_to(target(path))

            return make

        add("link_outside.xlsx", io_, REFUSED, "", "收件箱以外", symlink(lambda p: self.secret))
        add("link_dir_outside", io_, REFUSED, "", "收件箱以外", symlink(lambda p: self.outside))
        add(
            "link_inside.xlsx",
            io_,
            SKIPPED,
            "",
            "符号链接",
            symlink(lambda p: p.parent / "unitA" / "114.xlsx"),
        )
        add(
            "link_dangling.xlsx",
            io_,
            REFUSED,
            "",
            "不存在",
            symlink(lambda p: p.parent / "nowhere.xlsx"),
        )

        def folder(path: Path) -> None:
            path.mkdir(parents=True)
            (path / "inside.xlsx").write_bytes(self.good(115))

        add("folder.xlsx/", io_, SKIPPED, "", "文件夹", lambda p: folder(Path(str(p).rstrip("/"))))
        add("pipe.xlsx", io_, SKIPPED, "", "FIFO", lambda p: os.mkfifo(p))

        def unix_socket(path: Path) -> None:
            s = socket.socket(socket.AF_UNIX)
            s.bind(str(path))
            s.close()

        add("sock.xlsx", io_, SKIPPED, "", "套接字", unix_socket)

        # -- identity
        idn = "identity"
        add("zz_copy_in_batch.xlsx", idn, DUPLICATE, "", "", b(self.good(114)))
        add(
            "id_unknown_project.xlsx",
            idn,
            REJECTED,
            "project_in_plan",
            "",
            b(edit_sheet(self.good(116), basic, lambda x: set_cell(x, "C5", "<v>999</v>"))),
        )
        old = submission_file(
            self.ref, 117, self.scratch / "117old.xlsx", filled_date=date(2025, 1, 10)
        ).read_bytes()
        new = submission_file(
            self.ref, 117, self.scratch / "117new.xlsx", filled_date=date(2025, 1, 20)
        ).read_bytes()
        add("zz_117_older_date.xlsx", idn, SUPERSEDED, "", "", b(old))
        add("aa_117_later_date.xlsx", idn, ACCEPTED, "", "", b(new))
        a = submission_file(self.ref, 118, self.scratch / "118a.xlsx", contact="张三").read_bytes()
        c = submission_file(self.ref, 118, self.scratch / "118b.xlsx", contact="李四").read_bytes()
        add("118_a_saved_later.xlsx", idn, ACCEPTED, "", "", timed(b(a), 1_700_000_100))
        add("118_b_saved_earlier.xlsx", idn, SUPERSEDED, "", "", timed(b(c), 1_700_000_000))
        x = submission_file(self.ref, 119, self.scratch / "119x.xlsx", contact="张三").read_bytes()
        y = submission_file(self.ref, 119, self.scratch / "119y.xlsx", contact="李四").read_bytes()
        add(
            "119_x_tie.xlsx",
            idn,
            REJECTED,
            "version.conflict",
            "无法确定哪一份是最新版本",
            timed(b(x), 1_700_000_000),
        )
        add(
            "119_y_tie.xlsx",
            idn,
            REJECTED,
            "version.conflict",
            "无法确定哪一份是最新版本",
            timed(b(y), 1_700_000_000),
        )
        return out


def timed(make: Callable[[Path], None], mtime: float) -> Callable[[Path], None]:
    def wrapped(path: Path) -> None:
        make(path)
        os.utime(path, (mtime, mtime))

    return wrapped


def convert_to_xls(sources: list[Path], out: Path) -> None:
    """LibreOffice, headless: the .xls a unit's older Excel would save."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out / "lo-profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "xls", "--outdir", str(out), *map(str, sources)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)

"""Data Docs that make no request off the machine (government networks have no internet).

Great Expectations' page templates load Bootstrap, bootstrap-table, jQuery, Font Awesome and
Vega from CDNs and a logo from a public bucket, and no setting points them elsewhere. After each
build the pages written are rewritten here: every CDN asset they use is replaced by the copy
shipped in this package (static/vendor/, see its README), copied once into the site's
static/vendor/; what the pages do not need (Vega, the dark theme, Popper, which Bootstrap's
bundle includes) is dropped; the logo is GX's own copy in the site; links to GX's web site
become plain text. GX's unused static images (3 MB of animations) are removed from the site.

`CDN` lists every external address GX 1.24's templates hold (a test reads the installed
templates, so a GX upgrade that adds one fails there, not silently offline).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
SITE_VENDOR = Path("static") / "vendor"
_FA = ("fontawesome/css/fontawesome.min.css", "fontawesome/css/solid.min.css",
       "fontawesome/css/regular.min.css")  # fmt: skip

# External address (without query) → the shipped files that replace it (none: dropped).
CDN: dict[str, tuple[str, ...]] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/bootstrap.bundle.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery/jquery.min.js",),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/bootstrap-table.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/bootstrap-table.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table/bootstrap-table-filter-control.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table/bootstrap-table-filter-control.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table/bootstrap-table-filter-control.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker/bootstrap-datepicker.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker/bootstrap-datepicker.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": _FA,
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (),
    "https://cdn.jsdelivr.net/npm/vega@5": (),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": (),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": (),
}
LOGO_HOST = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
GX_SITE = "https://greatexpectations.io"
# GX static files the pages guidefund builds never show.
UNUSED_STATIC = (
    "static/images/glossary_scroller.gif",
    "static/images/validation_failed_unexpected_values.gif",
    "static/images/iterative-dev-loop.png",
    "static/images/logo-long-vector.svg",
    "static/images/short-logo-vector.svg",
    "static/styles/data_docs_custom_styles_template.css",
)

_TAG = re.compile(
    r"<(?P<tag>script|link)\b[^>]*?\b(?:src|href)=\"(?P<url>(?:https?:)?//[^\"]+)\"[^>]*>"
    r"(?:\s*</script>)?",
    re.S,
)
_LOGO = re.compile(r"(src=\")" + re.escape(LOGO_HOST) + r"([^\"?]+)(?:\?[^\"]*)?(\")")
_CSS_URL = re.compile(r"url\((['\"]?)" + re.escape(LOGO_HOST) + r"[^)]*\1\)")
_GX_LINK = re.compile(r"<a\b[^>]*href=\"" + re.escape(GX_SITE) + r"[^\"]*\"[^>]*>(.*?)</a>", re.S)


def install_vendor(site: Path) -> None:
    """Copy the shipped assets into <site>/static/vendor/ (only what is missing or changed)."""
    for source in VENDOR.rglob("*"):
        if source.is_dir() or source.name == "README.md":
            continue
        target = site / SITE_VENDOR / source.relative_to(VENDOR)
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def _root(page: Path, site: Path) -> str:
    """The relative way from `page` up to the site's root ('' or '../../')."""
    depth = len(page.resolve().relative_to(site.resolve()).parts) - 1
    return "../" * depth


def localise(html: str, root: str) -> str:
    """`html` with every CDN asset replaced by its shipped copy under `root`static/vendor/."""

    def asset(m: re.Match[str]) -> str:
        url = m.group("url").split("?", 1)[0]
        files = CDN.get(url, ())
        if m.group("tag") == "script":
            return "".join(
                f'<script src="{root}{SITE_VENDOR.as_posix()}/{f}"></script>' for f in files
            )
        return "".join(
            f'<link rel="stylesheet" href="{root}{SITE_VENDOR.as_posix()}/{f}">' for f in files
        )

    html = _TAG.sub(asset, html)
    html = _LOGO.sub(lambda m: f"{m.group(1)}{root}static/images/{m.group(2)}{m.group(3)}", html)
    html = _CSS_URL.sub("none", html)
    return _GX_LINK.sub(lambda m: m.group(1), html)


def make_offline(site: Path, pages: Iterable[Path]) -> None:
    """Point `pages` (HTML files of `site`) and the site's stylesheets at local files only."""
    install_vendor(site)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        fixed = localise(html, _root(page, site))
        if fixed != html:
            page.write_text(fixed, encoding="utf-8")
    for css in (site / "static" / "styles").glob("*.css"):
        text = css.read_text(encoding="utf-8")
        fixed = _CSS_URL.sub("none", text)
        if fixed != text:
            css.write_text(fixed, encoding="utf-8")
    for name in UNUSED_STATIC:
        (site / name).unlink(missing_ok=True)


def external_references(text: str) -> list[str]:
    """Addresses on another host that `text` (HTML or CSS) would load or link to: src/href/
    action attributes, CSS url() and @import. Namespace names (xmlns) load nothing."""
    found = re.findall(r"\b(?:src|href|action|srcset)\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)", text)
    found += re.findall(r"url\(\s*['\"]?((?:https?:)?//[^'\")]+)", text)
    found += re.findall(r"@import\s+['\"]((?:https?:)?//[^'\"]+)", text)
    return found

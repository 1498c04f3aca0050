"""Seeing a workbook as a person does: printed through LibreOffice headless.

:func:`render` converts a workbook (every visible sheet, with its own print setup) to PDF in
a private LibreOffice profile (so tests run in parallel), reads where each word landed on
which page (``pdftotext -bbox``), and draws the pages as PNG (``pdftoppm``) to look at; the
pixels under a word tell whether its cell is marked. Set ``WORKBOOK_ENGINE_DOCS_IMG`` to a
folder to keep the pictures there (``docs/img/`` for the README).

Tests using it are marked ``libreoffice`` and skip, with the reason, without ``soffice``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import pytest

from tests.support.libreoffice import convert, require_soffice

DPI = 72  # one pixel per PDF point, so word boxes and pixels share coordinates


@dataclass(frozen=True)
class Word:
    """A word of the PDF: its page (1-based), its box in points, its text."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass
class Page:
    number: int
    width: float
    height: float
    words: list[Word] = field(default_factory=list)

    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class Rendered:
    """A workbook printed to PDF: its pages and words, and its pages as pictures."""

    source: Path
    pdf: Path
    pages: list[Page]
    work: Path
    _pixels: dict[int, tuple[int, int, bytes]] = field(default_factory=dict)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def words(self) -> Iterator[Word]:
        for page in self.pages:
            yield from page.words

    def find(self, text: str) -> list[Word]:
        """Every word equal to ``text``, or a run of consecutive words spelling it."""
        parts = text.split()
        found = []
        for page in self.pages:
            words = page.words
            for i in range(len(words) - len(parts) + 1):
                if all(words[i + k].text == parts[k] for k in range(len(parts))):
                    run = words[i:i + len(parts)]
                    found.append(Word(page.number, min(w.x0 for w in run),
                                      min(w.y0 for w in run), max(w.x1 for w in run),
                                      max(w.y1 for w in run), text))
        return found

    def pages_with(self, text: str) -> list[int]:
        return sorted({w.page for w in self.find(text)})

    def outside(self, margin: float = 0.5) -> list[Word]:
        """Words printed (even partly) off their page."""
        sizes = {p.number: (p.width, p.height) for p in self.pages}
        return [w for w in self.words() if w.x0 < -margin or w.y0 < -margin
                or w.x1 > sizes[w.page][0] + margin or w.y1 > sizes[w.page][1] + margin]

    def overlapping(self) -> list[tuple[Word, Word]]:
        """Pairs of words of a page printed over each other (lines running into lines)."""
        pairs = []
        for page in self.pages:
            words = sorted(page.words, key=lambda w: (w.y0, w.x0))
            for i, a in enumerate(words):
                for b in words[i + 1:]:
                    if b.y0 >= a.y1 - 1:
                        break
                    overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
                    overlap_y = min(a.y1, b.y1) - max(a.y0, b.y0)
                    if overlap_x > 1 and overlap_y > 0.4 * min(a.y1 - a.y0, b.y1 - b.y0):
                        pairs.append((a, b))
        return pairs

    def pixel(self, page: int, x: float, y: float) -> tuple[int, int, int]:
        """The colour at point (x, y) of a page."""
        width, height, data = self._page_pixels(page)
        px, py = min(width - 1, max(0, int(x))), min(height - 1, max(0, int(y)))
        i = (py * width + px) * 3
        return data[i], data[i + 1], data[i + 2]

    def colours_near(self, word: Word, pad: float = 2.0) -> set[tuple[int, int, int]]:
        """The colours of the pixels in a word's box and a little around it."""
        colours = set()
        y = word.y0 - pad
        while y <= word.y1 + pad:
            x = word.x0 - pad
            while x <= word.x1 + pad:
                colours.add(self.pixel(word.page, x, y))
                x += 1
            y += 1
        return colours

    def png(self, page: int = 1) -> Path:
        """A PNG of a page (for looking at)."""
        out = self.work / f"{self.source.stem}-{page}.png"
        if not out.exists():
            subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", str(page), "-l", str(page),
                            "-singlefile", str(self.pdf), str(out.with_suffix(""))],
                           check=True, capture_output=True, timeout=60)
        return out

    def keep(self, name: str, pages: int | Sequence[int] = 1) -> None:
        """Copy the pictures of the first ``pages`` pages (or of the pages listed) to
        ``$WORKBOOK_ENGINE_DOCS_IMG`` as ``name.png``, ``name-2.png``..., when that folder
        is given."""
        folder = os.environ.get("WORKBOOK_ENGINE_DOCS_IMG")
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        numbers = range(1, pages + 1) if isinstance(pages, int) else pages
        for n in (n for n in numbers if n <= self.page_count):
            suffix = "" if n == 1 else f"-{n}"
            shutil.copyfile(self.png(n), Path(folder) / f"{name}{suffix}.png")

    def _page_pixels(self, page: int) -> tuple[int, int, bytes]:
        if page not in self._pixels:
            stem = self.work / f"{self.source.stem}-px-{page}"
            subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page),
                            "-singlefile", str(self.pdf), str(stem)],
                           check=True, capture_output=True, timeout=60)
            self._pixels[page] = _read_ppm(stem.with_suffix(".ppm"))
        return self._pixels[page]


def render(source: Path, work: Path) -> Rendered:
    """Print ``source`` (every visible sheet) to PDF with LibreOffice and read it back."""
    require_soffice()
    _require_poppler()
    work.mkdir(parents=True, exist_ok=True)
    return _read(source, convert(source, "pdf", work), work)


CHROMIUM = "/usr/bin/chromium"


def render_html(source: Path, work: Path) -> Rendered:
    """Print an HTML page to PDF with headless Chromium (as a browser's Print does, with
    the page's print styles) and read it back."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed ({CHROMIUM} missing; apt-get install "
                    "chromium)")
    _require_poppler()
    work.mkdir(parents=True, exist_ok=True)
    pdf = work / f"{source.stem}.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={work / 'chromium-profile'}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", source.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    return _read(source, pdf, work)


def _require_poppler() -> None:
    for tool in ("pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install poppler-utils)")


def _read(source: Path, pdf: Path, work: Path) -> Rendered:
    layout = work / f"{source.stem}-bbox.html"
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(layout)], check=True,
                   capture_output=True, timeout=60)
    return Rendered(source, pdf, _pages(layout.read_text(encoding="utf-8")), work)


_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" '
                   r'yMax="([\d.-]+)">(.*?)</word>')


def _pages(html: str) -> list[Page]:
    pages = []
    for n, m in enumerate(_PAGE.finditer(html), start=1):
        page = Page(n, float(m.group(1)), float(m.group(2)))
        page.words = [Word(n, float(w.group(1)), float(w.group(2)), float(w.group(3)),
                           float(w.group(4)), unescape(w.group(5)))
                      for w in _WORD.finditer(m.group(3))]
        pages.append(page)
    return pages


def _read_ppm(path: Path) -> tuple[int, int, bytes]:
    """A binary PPM (P6, 8 bits) as (width, height, RGB bytes)."""
    data = path.read_bytes()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise AssertionError(f"{path} is not an 8-bit binary PPM")
    return int(fields[1]), int(fields[2]), data[pos + 1:]


def is_reddish(colour: tuple[int, int, int]) -> bool:
    """A red text or a pink/red fill (the marks of the reports)."""
    r, g, b = colour
    return r > 150 and r - g > 40 and r - b > 40

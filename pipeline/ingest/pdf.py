"""PDF transcripts (`.pdf`): the text layer, read line by line, turned into paragraphs.

pdfminer.six lays out the characters of each page into lines with their positions; what it
cannot know about a transcript is decided here, so that `find_turns` sees what it sees in a
.txt file: one paragraph a line, paragraphs separated by a blank line.

- **Reading order.** Lines are read top to bottom on each page and pages in order, whatever
  order the PDF draws them in; pieces of text on the same baseline (a label in a column of its
  own, a table row) are joined left to right. One text column is assumed. Rotated text
  (watermarks, notes along the margin) is left out.
- **Running headers and footers.** Among the first three and the last three lines of each
  page, a line that comes back at the same height on two pages in five or more (two at
  least, so headers that alternate between odd and even pages are caught too), compared
  with its digits replaced ("Page 3 of 12", "Interview P14 — confidential", a date), is
  removed, from the page edge inward; so is a bare page number there ("3", "- 3 -",
  "Page 3", "3 / 12", "第 3 頁"), even in a one-page file. A line that starts with the label
  of one of the transcript's speakers (a label that starts other lines too) is never taken
  for a header: "Interviewer: Mm-hmm." may open two pages.
- **Line numbers in the margin.** A number of at most four digits that lies wholly left of
  the text's left margin (the leftmost x where many lines start), or stands alone right of
  the text, is dropped; "12 years ago" at the margin is text and stays.
- **Paragraphs.** Lines on a page belong to one paragraph unless their baselines are further
  apart than 1.2 times the document's line spacing (the smallest distance between baselines
  that recurs; so 6 pt after a double-spaced paragraph is a break), or the next line starts
  with the label of one of the transcript's speakers (a label that `find_turns` will not
  demote). Across a page break the paragraph goes on when the last line of the page runs to
  the right margin (or ends in a hyphen) and the next page does not start with a label.
- **Otter.ai exports** ("Speaker 2  0:32" on a line of its own, the utterance below) are
  given as in their .txt: the label line, a newline, the utterance.
- **Joining lines.** Lines of a paragraph are joined with a space, without one when both
  sides are CJK characters (Chinese and Japanese lines wrap mid-sentence). End-of-line
  hyphenation, a line ending in a letter and a hyphen: a soft hyphen (U+00AD) is always a
  break and is removed; otherwise the two halves are joined without the hyphen when the
  joined word occurs elsewhere in the file ("recov-" + "ery", "recovery" seen elsewhere),
  with it when the hyphenated form does ("well-" + "being", "well-being" seen elsewhere; the
  more frequent wins, a tie joins), and, when neither occurs, without the hyphen if the next
  line starts with a lowercase letter and with it otherwise ("COVID-" + "19").
- Ligatures (U+FB00–FB06) are spelled out, other soft hyphens and control characters removed,
  runs of spaces collapsed, and the whole text `normalize`d: that text is what offsets index.

Errors, each naming the file and the fix: no text on any page (a scan needs OCR first), text
that cannot be decoded (fonts without a map to Unicode) or is all sideways, a password, a
damaged or cut-off file (the end marker missing, or pdfminer failing to parse it).
"""

from __future__ import annotations

import bisect
import io
import itertools
import logging
import math
import re
import statistics
import unicodedata
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import (
    EmptyInputError,
    MalformedTranscriptError,
    MissingDependencyError,
    PrecodeError,
    UnsupportedFormatError,
)
from pipeline.ingest.encoding import normalize
from pipeline.ingest.speakers import OTTER_LINE, find_turns, match_label, role_for, split_lines
from pipeline.records import Turn

_PARAGRAPH_GAP = 1.2  # a paragraph break: baselines this many line spacings apart, or more
_EDGE_ROWS = 3  # header/footer candidates: this many lines at the top and bottom of a page
_MARGIN_NUMBER = re.compile(r"\d{1,4}")
_PAGE_NUMBER = re.compile(  # on a line's key (digits already replaced by "#")
    r"[\s\-–—]*(?:(?:page|pg\.?|p\.)\s*)?#(?:\s*(?:of|/|／)\s*#)?[\s\-–—]*"
    r"|(?:第\s*#\s*頁)?\s*[,，]?\s*(?:共\s*#\s*頁)?"
)
_CJK = re.compile(
    r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff]"
)
_WORD = re.compile(r"[^\W\d_]+(?:[-\u2010][^\W\d_]+)*")
_HYPHENS = "-\u2010"
_SOFT_HYPHEN = "\u00ad"
_CID = re.compile(r"\(cid:\d+\)")
_OTTER_ROW = re.compile(r"(.+?) (\d{1,2}:\d{2}(?::\d{2})?)")
_SPACES = re.compile(r"[ \t\u00a0]+")


# --- what pdfminer gives, as plain data -----------------------------------------------------

@dataclass
class _Item:
    """A character (or pdfminer's inferred space, `virtual`) of a laid-out line."""

    text: str
    x0: float
    x1: float
    virtual: bool = False


@dataclass
class _Fragment:
    """One line as pdfminer laid it out: a run of text on one baseline."""

    items: list[_Item]
    y0: float
    y1: float
    baseline: float


@dataclass
class _Page:
    fragments: list[_Fragment] = field(default_factory=list)
    images: int = 0
    rotated: int = 0  # characters not upright, left out


@dataclass
class _Row:
    """The fragments of a page that share a baseline, left to right."""

    text: str
    page: int
    x0: float
    x1: float
    y0: float
    y1: float
    baseline: float  # of its longest fragment: line spacing is measured between baselines


def read_pdf(path: Path, data: bytes, interviewer_names: Sequence[str]
             ) -> tuple[str, list[Turn]]:
    """The normalized text of a .pdf transcript and its speaker turns."""
    pages = _extract(path, data)
    if not pages:
        raise EmptyInputError("the PDF has no pages", path=path,
                              hint="check that the export finished, or remove the file")
    left, right = _margins(pages)
    rows = [_rows(page, number, left, right) for number, page in enumerate(pages)]
    body = _drop_running_lines(rows, interviewer_names)
    labels = _speakers(body, interviewer_names)
    flat = [row for page_rows in body for row in page_rows]
    if not any(row.text.strip() for row in flat):
        _no_text_layer(path, pages)
    paragraphs = _paragraphs(flat, labels, left, right)
    text = normalize("\n\n".join(paragraphs))
    if len("".join(_CID.findall(text))) > len(text) // 3:
        raise UnsupportedFormatError(
            "the PDF's text cannot be decoded: its fonts have no map from glyphs to letters",
            path=path,
            hint="export the PDF again from the original document, or run OCR on it (ocrmypdf "
                 "--force-ocr, or your PDF tool's 'recognize text') and give the result",
        )
    return text, find_turns(text, split_lines(text), interviewer_names)


# --- reading the PDF ------------------------------------------------------------------------

def _extract(path: Path, data: bytes) -> list[_Page]:
    """Each page's laid-out lines, or a clear error for a file pdfminer cannot read."""
    try:
        from pdfminer.converter import PDFPageAggregator
        from pdfminer.layout import LAParams
        from pdfminer.pdfdocument import (
            PDFDocument,
            PDFEncryptionError,
            PDFPasswordIncorrect,
            PDFXRefFallback,
        )
        from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdfparser import PDFParser
    except ImportError as exc:
        raise MissingDependencyError(
            "reading .pdf needs pdfminer.six, which is not installed", path=path,
            hint="pip install pdfminer.six (or reinstall precode), or convert the file to "
                 ".txt or .docx") from exc

    damaged = "export or download the PDF again (open it in a PDF reader first to check it)"
    if b"%PDF-" not in data[:1024]:
        raise MalformedTranscriptError(
            "not a PDF file: it does not start with the %PDF- marker", path=path,
            hint="check what the file is; if it is not a PDF, give it its real extension, "
                 "else " + damaged)
    end = data.rfind(b"%%EOF")
    if end >= 0 and re.search(rb"\d+\s+\d+\s+obj\b", data[end:]):
        raise MalformedTranscriptError(
            "the PDF is incomplete: it stops in the middle of an update (the download or copy "
            "was probably cut off)", path=path, hint=damaged)

    pages: list[_Page] = []
    logger = logging.getLogger("pdfminer")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # pdfminer logs every oddity it works around
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            document = PDFDocument(PDFParser(io.BytesIO(data)), password="")
            if end < 0 and any(isinstance(x, PDFXRefFallback) for x in document.xrefs):
                raise MalformedTranscriptError(
                    "the PDF is incomplete: its end (the %%EOF marker and the table of "
                    "objects) is missing, so the download or copy was probably cut off",
                    path=path, hint=damaged)
            resources = PDFResourceManager(caching=True)
            # Lines only: the order of text boxes (boxes_flow) is not used, lines are ordered here.
            device = PDFPageAggregator(resources,
                                       laparams=LAParams(all_texts=True, boxes_flow=None))
            interpreter = PDFPageInterpreter(resources, device)
            for page in PDFPage.create_pages(document):
                interpreter.process_page(page)
                pages.append(_page(device.get_result()))
    except PrecodeError:
        raise
    except PDFPasswordIncorrect as exc:
        raise UnsupportedFormatError(
            "the PDF is protected by a password (encrypted), so its text cannot be read",
            path=path,
            hint="open it with the password and save an unprotected copy (remove the "
                 "password in your PDF tool's security settings, or print it to a new PDF), "
                 "then give that copy") from exc
    except PDFEncryptionError as exc:
        raise UnsupportedFormatError(
            f"the PDF is encrypted in a way precode cannot open ({exc or type(exc).__name__})",
            path=path,
            hint="remove the protection in your PDF tool (save an unprotected copy, or print "
                 "it to a new PDF), then give that copy") from exc
    except Exception as exc:  # pdfminer raises many kinds on broken files; never a traceback
        raise MalformedTranscriptError(
            f"the PDF is damaged or incomplete and cannot be read ({type(exc).__name__}: "
            f"{str(exc)[:120] or 'no detail'})", path=path, hint=damaged) from exc
    finally:
        logger.setLevel(level)
    return pages


def _page(layout: Any) -> _Page:
    """The text lines and the number of images of a laid-out pdfminer page."""
    from pdfminer.layout import LTAnno, LTChar, LTContainer, LTImage, LTTextLineHorizontal

    page = _Page()

    def walk(obj: Any) -> None:
        if isinstance(obj, LTTextLineHorizontal):
            items: list[_Item] = []
            baselines: list[float] = []
            for ch in obj:
                if isinstance(ch, LTChar):
                    if ch.upright:
                        items.append(_Item(ch.get_text(), ch.x0, ch.x1))
                        baselines.append(ch.matrix[5])  # the text origin, without any rise
                    else:
                        page.rotated += 1
                elif isinstance(ch, LTAnno) and ch.get_text() != "\n":
                    at = items[-1].x1 if items else obj.x0
                    items.append(_Item(ch.get_text(), at, at, virtual=True))
            if any(item.text.strip() for item in items):
                page.fragments.append(_Fragment(items, obj.y0, obj.y1,
                                                statistics.median(baselines)))
        elif isinstance(obj, LTImage):
            page.images += 1
        elif isinstance(obj, LTContainer):
            for child in obj:
                walk(child)

    walk(layout)
    return page


def _no_text_layer(path: Path, pages: list[_Page]) -> None:
    if sum(page.rotated for page in pages) > 20:
        raise UnsupportedFormatError(
            "the PDF's text is all turned sideways or upside down, and precode reads upright "
            "text only", path=path,
            hint="rotate the pages' content upright in your PDF tool (or export the transcript "
                 "again in portrait) and save a new PDF")
    hint = ("run OCR on it first (ocrmypdf, or your PDF tool's 'recognize text' / 'make "
            "searchable'), save the result as a PDF with text, and give that file")
    if any(page.images for page in pages):
        raise UnsupportedFormatError(
            f"the PDF has no text layer: its {len(pages)} page(s) are images only, as in a "
            "scanned document, so there is no text to read", path=path, hint=hint)
    raise UnsupportedFormatError(
        f"the PDF has no text on any of its {len(pages)} page(s)", path=path,
        hint="check that this is the transcript; if its pages are scans, " + hint)


# --- lines: margins, rows, running headers and footers ----------------------------------------

def _words(items: list[_Item]) -> Iterator[tuple[int, int]]:
    """(first, last + 1) item index of each space-separated word."""
    start = None
    for i, item in enumerate(items):
        if item.text.isspace():
            if start is not None:
                yield start, i
            start = None
        elif start is None:
            start = i
    if start is not None:
        yield start, len(items)


def _word_text(items: list[_Item], span: tuple[int, int]) -> str:
    return "".join(item.text for item in items[span[0]:span[1]])


def _margins(pages: list[_Page]) -> tuple[float, float]:
    """The left margin of the text (the leftmost x where many lines start, line numbers not
    counted) and its right edge."""
    starts: Counter[int] = Counter()
    right = -math.inf
    for page in pages:
        for fragment in page.fragments:
            words = [w for w in _words(fragment.items)
                     if not _MARGIN_NUMBER.fullmatch(_word_text(fragment.items, w))]
            if words:
                starts[round(fragment.items[words[0][0]].x0)] += 1
                right = max(right, fragment.items[words[-1][1] - 1].x1)
    if not starts:
        return -math.inf, math.inf
    need = max(2, sum(starts.values()) // 20)
    common = [x for x, n in starts.items() if n >= need]
    return float(min(common or starts)), right


def _strip_margin_numbers(items: list[_Item], left: float, right: float) -> list[_Item]:
    """The line without a line number left of the margin (on its own, or read by pdfminer as
    the line's first word) or right of the text (on its own)."""
    words = list(_words(items))
    if not words:
        return []
    first = words[0]
    if _MARGIN_NUMBER.fullmatch(_word_text(items, first)):
        if items[first[1] - 1].x1 < left - 1:
            return items[words[1][0]:] if len(words) > 1 else []
        if len(words) == 1 and items[first[0]].x0 > right + 1:
            return []
    return items


def _fragment_text(items: list[_Item]) -> str:
    out: list[str] = []
    for i, item in enumerate(items):
        if item.virtual and 0 < i < len(items) - 1 and _cjk(items[i - 1].text[-1:]) and \
                _cjk(items[i + 1].text[:1]):
            continue  # a gap pdfminer read as a space between CJK characters (justified text)
        out.append(item.text)
    return _clean("".join(out))


def _clean(text: str) -> str:
    text = "".join(unicodedata.normalize("NFKC", ch) if "\ufb00" <= ch <= "\ufb06" else ch
                   for ch in text)
    text = "".join(" " if ch == "\t" else ch for ch in text
                   if ch == "\t" or unicodedata.category(ch) != "Cc")
    return _SPACES.sub(" ", text).strip()


def _rows(page: _Page, number: int, left: float, right: float) -> list[_Row]:
    """The page's lines top to bottom; fragments on one baseline joined left to right."""
    pieces = []
    for fragment in page.fragments:
        items = _strip_margin_numbers(fragment.items, left, right)
        text = _fragment_text(items)
        if text:
            pieces.append((fragment, text, items[0].x0, items[-1].x1))
    pieces.sort(key=lambda p: (-p[0].y1, p[2]))
    groups: list[list[tuple[_Fragment, str, float, float]]] = []
    for piece in pieces:
        if groups:
            top = max(p[0].y1 for p in groups[-1])
            bottom = min(p[0].y0 for p in groups[-1])
            overlap = min(top, piece[0].y1) - max(bottom, piece[0].y0)
            if overlap >= 0.5 * min(top - bottom, piece[0].y1 - piece[0].y0):
                groups[-1].append(piece)
                continue
        groups.append([piece])
    rows = []
    for group in groups:
        group.sort(key=lambda p: p[2])
        text = group[0][1]
        for piece in group[1:]:
            text += ("" if _cjk(text[-1]) and _cjk(piece[1][0]) else " ") + piece[1]
        otter = _OTTER_ROW.fullmatch(text)
        if otter and OTTER_LINE.match(f"{otter[1]}  {otter[2]}"):
            text = f"{otter[1]}  {otter[2]}"  # as Otter writes it in .txt: two spaces
        longest = max(group, key=lambda p: len(p[1]))[0]
        rows.append(_Row(text, number, group[0][2], max(p[3] for p in group),
                         min(p[0].y0 for p in group), max(p[0].y1 for p in group),
                         longest.baseline))
    return rows


def _label(text: str) -> str | None:
    found = match_label(text)
    if found:
        return found[0]
    m = OTTER_LINE.match(text)
    return m.group("label").strip() if m else None


def _speakers(pages: list[list[_Row]], interviewer_names: Sequence[str]) -> set[str]:
    """The labels that `find_turns` will take for speakers: with four labelled lines or more,
    those seen twice or more, and interviewers."""
    counts = Counter(label for rows in pages for row in rows
                     if (label := _label(row.text)) is not None)
    if sum(counts.values()) < 4:
        return set(counts)
    return {label for label, n in counts.items()
            if n >= 2 or role_for(label, interviewer_names) == "interviewer"}


def _key(text: str) -> str:
    return _SPACES.sub(" ", re.sub(r"\d+", "#", text.casefold())).strip()


def _drop_running_lines(pages: list[list[_Row]], interviewer_names: Sequence[str]
                        ) -> list[list[_Row]]:
    """The pages without their running headers, footers and page numbers."""
    tops: dict[str, list[float]] = defaultdict(list)
    bottoms: dict[str, list[float]] = defaultdict(list)
    for rows in pages:
        for zone, seen in ((rows[:_EDGE_ROWS], tops), (rows[-_EDGE_ROWS:], bottoms)):
            for key, y in {_key(r.text): r.y1 for r in zone}.items():
                seen[key].append(y)
    need = max(2, math.ceil(0.4 * sum(1 for rows in pages if rows)))

    def repeated(row: _Row, seen: dict[str, list[float]]) -> bool:
        """On `need` pages or more, at the same height (within 3 points) as here."""
        return sum(1 for y in seen.get(_key(row.text), ()) if abs(y - row.y1) <= 3) >= need

    # A speaker's label starts lines that are not repeated ones: a repeated "Interviewer:
    # Mm-hmm." at the top of two pages is a turn, "Confidential: not for citation" a footer.
    candidates = {id(r) for rows in pages for r in rows[:_EDGE_ROWS] if repeated(r, tops)}
    candidates |= {id(r) for rows in pages for r in rows[-_EDGE_ROWS:] if repeated(r, bottoms)}
    speakers = _speakers([[r for r in rows if id(r) not in candidates] for rows in pages],
                         interviewer_names)

    def running(row: _Row, seen: dict[str, list[float]]) -> bool:
        key = _key(row.text)
        if _PAGE_NUMBER.fullmatch(key) and "#" in key:
            return True
        return repeated(row, seen) and _label(row.text) not in speakers

    out = []
    for rows in pages:
        start, end = 0, len(rows)
        while start < min(end, _EDGE_ROWS) and running(rows[start], tops):
            start += 1
        while end > max(start, len(rows) - _EDGE_ROWS) and running(rows[end - 1], bottoms):
            end -= 1
        out.append(rows[start:end])
    return out


# --- paragraphs -----------------------------------------------------------------------------

def _line_spacing(rows: list[_Row]) -> float:
    """The distance between the baselines of two lines of one paragraph: the smallest one
    that recurs (a tenth of all, two at least)."""
    heights = [r.y1 - r.y0 for r in rows]
    height = statistics.median(heights) if heights else 10.0
    deltas = sorted(a.baseline - b.baseline for a, b in itertools.pairwise(rows)
                    if a.page == b.page and a.baseline - b.baseline > 0.5 * height)
    need = max(2, len(deltas) // 10)
    for i, d in enumerate(deltas):
        j = bisect.bisect_right(deltas, d * 1.1)
        if j - i >= need:
            return statistics.median(deltas[i:j])
    return min([*deltas, 1.2 * height])  # too few lines to tell: single spacing


def _paragraphs(rows: list[_Row], labels: set[str], left: float, right: float) -> list[str]:
    spacing = _line_spacing(rows)
    words = Counter(w.casefold().replace("\u2010", "-") for row in rows
                    for w in _WORD.findall(row.text))
    # A line "runs to the right margin" when it ends past 85% of the usual text width (the
    # 95th percentile of line ends: ragged right, one overlong line does not count).
    ends = sorted(row.x1 for row in rows)
    edge = min(right, ends[int(0.95 * (len(ends) - 1))]) if ends else right
    full = left + 0.85 * (edge - left) if math.isfinite(left) else math.inf
    paragraphs: list[str] = []
    current = ""
    previous: _Row | None = None
    for row in rows:
        text = row.text.strip()
        if not text:
            continue
        label = _label(text)
        if previous is None or (label is not None and label in labels):
            new = True
        elif row.page != previous.page:
            new = previous.x1 < full and not current.endswith((*_HYPHENS, _SOFT_HYPHEN))
        else:
            new = previous.baseline - row.baseline > _PARAGRAPH_GAP * spacing
        if previous is not None and current == previous.text and \
                OTTER_LINE.match(current) and label is None:
            current += "\n" + text  # the utterance under an Otter label, as in its .txt
        elif new:
            if current:
                paragraphs.append(_finish(current))
            current = text
        else:
            current = _join(current, text, words)
        previous = row
    if current:
        paragraphs.append(_finish(current))
    return paragraphs


def _finish(paragraph: str) -> str:
    return paragraph.replace(_SOFT_HYPHEN, "")


def _cjk(ch: str) -> bool:
    return bool(ch) and _CJK.match(ch) is not None


def _join(before: str, after: str, words: Counter[str]) -> str:
    """Two lines of a paragraph as one: hyphenation undone, a space unless CJK meets CJK."""
    if before.endswith(_SOFT_HYPHEN):
        return before[:-1] + after
    if len(before) >= 2 and before[-1] in _HYPHENS and before[-2].isalpha():
        head = re.search(r"[^\W\d_]+$", before[:-1])
        tail = re.match(r"[^\W\d_]+", after)
        if head and tail:
            joined = words[(head.group() + tail.group()).casefold()]
            hyphenated = words[(head.group() + "-" + tail.group()).casefold()]
            if joined and joined >= hyphenated:
                return before[:-1] + after
            if hyphenated:
                return before + after
            return (before[:-1] if after[0].islower() else before) + after
        return before + after  # "COVID-" + "19"
    if _cjk(before[-1]) and _cjk(after[0]):
        return before + after
    return before + " " + after

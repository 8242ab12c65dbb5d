"""Split multi-essay pages into documents: separator grammar, titles, sign-offs, years.

Separators come in many forms: ``TITLE篇1``, ``第一篇:TITLE``, ``【第一篇】TITLE``,
``TITLE【第一篇】``, ``篇一``, ``范文一``, and ``TITLE(一)`` lists; in pages without line
breaks ``TITLE【第一篇】`` also occurs mid-line. A family of separators is only accepted as
a numbered run starting at 1 (``精选5篇`` in an intro, section markers like ``(一)`` and
related-article lists are not separators).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .textutil import starting_with

CN_DIGITS = {"零": 0, "〇": 0, "o": 0, "O": 0, "0": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
NUM = r"(?:\d{1,3}|[一二三四五六七八九十百零〇两]{1,4})"

SEP_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("title_pian_n", re.compile(rf"^(?P<title>.{{0,60}}?)篇\s*(?P<num>{NUM})\s*[:：]?\s*$")),
    ("di_n_pian", re.compile(rf"^第(?P<num>{NUM})篇\s*[:：.．、]?\s*(?P<title>.{{0,80}})$")),
    ("bracket_di_n_pian", re.compile(rf"^(?P<pre>.{{0,60}}?)[【\[〖]第?(?P<num>{NUM})篇[】\]〗]\s*[:：]?\s*(?P<title>.{{0,80}})$")),
    ("fanwen_n", re.compile(rf"^范文\s*(?P<num>{NUM})\s*[:：、.．]?\s*(?P<title>.{{0,80}})$")),
    ("title_paren_n", re.compile(rf"^(?P<title>[^（(]{{2,60}}?)[（(](?P<num>{NUM})[)）]\s*$")),
]
INLINE_SEP_RE = re.compile(rf"[【\[〖]第(?P<num>{NUM})篇[】\]〗]")

DATE_LINE_RE = re.compile(
    r"^[（(]?\s*(?:(?:19|20)\d{2}|[一二][〇零0o○O一二三四五六七八九]{3})\s*年"
    r"(?:\s*[\d一二三四五六七八九十]{1,3}\s*月(?:\s*[\d一二三四五六七八九十]{1,3}\s*日)?)?[)）]?\s*$"
)
ORG_SUFFIX_RE = re.compile(
    r"(工会|委员会|分会|总工会|公司|集团|学校|小学|中学|大学|学院|医院|卫生院|中心|局|厂|车间|部|办公室|协会|支部|党委|银行|站|所|院|处|科|队|矿|段|镇|街道|社区|政府|联合会|商会|单位)$"
)
ANNOUNCE_RE = re.compile(rf"(?:精选|汇聚|合集|集锦|汇编|大全|优秀|范文|共|推荐|通用|整理)\D{{0,4}}?(?P<num>{NUM})\s*篇")
YEAR_RE = re.compile(r"((?:19[4-9]\d|20[0-3]\d))\s*年")
CN_YEAR_RE = re.compile(r"([一二][〇零0o○O一二三四五六七八九]{3})\s*年")
TERMINAL = "。！？!?…”」』）)"


def cn_number(s: str) -> int | None:
    """Parse ``12``, ``十二``, ``二十``, ``一百零五`` → int."""
    if s.isdigit():
        return int(s)
    total, cur = 0, 0
    for ch in s:
        if ch in CN_DIGITS:
            cur = CN_DIGITS[ch]
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
        else:
            return None
    return total + cur


def _match_sep(line: str) -> tuple[str, int, str] | None:
    s = line.strip()
    if not s or len(s) > 100:
        return None
    if "篇" not in s and "范文" not in s and s[-1] not in ")）":  # what every pattern needs
        return None
    for kind, rx in SEP_PATTERNS:
        m = rx.match(s)
        if m:
            num = cn_number(m.group("num"))
            if num is None or num == 0:
                continue
            title = (m.groupdict().get("title") or "").strip()
            pre = (m.groupdict().get("pre") or "").strip()
            if kind == "title_pian_n" and (not title or title.endswith(("第", "上", "下"))):
                # "篇一" alone is fine; "上篇1" is not a separator
                if title.endswith(("第", "上", "下")):
                    continue
            if kind == "bracket_di_n_pian" and pre and not title:
                title = pre
            if kind == "title_paren_n" and any(c in title for c in "。，,；;：:"):
                continue
            return kind, num, title.strip(" :：-—")
    return None


def is_separator_line(line: str) -> bool:
    m = _match_sep(line)
    return bool(m) and m[0] != "title_paren_n"


@dataclass
class Separator:
    start: int  # offset of the separator in the text
    end: int  # offset just after it (body starts here)
    number: int
    title: str
    kind: str


def find_separators(text: str) -> list[Separator]:
    """Essay separators as a numbered run 1, 2, 3… of one family (the longest run wins)."""
    by_kind: dict[str, list[Separator]] = {}
    pos = 0
    for line in text.split("\n"):
        m = _match_sep(line)
        if m:
            kind, num, title = m
            by_kind.setdefault(kind, []).append(Separator(pos, pos + len(line), num, title, kind))
        elif len(line) > 300:
            for im in INLINE_SEP_RE.finditer(line):
                num = cn_number(im.group("num"))
                if not num:
                    continue
                # title: back to the previous sentence end (bounded)
                a = im.start()
                k = a
                while k > 0 and a - k < 40 and line[k - 1] not in "。！？!?；;】\n":
                    k -= 1
                by_kind.setdefault("inline_bracket", []).append(
                    Separator(pos + k, pos + im.end(), num, line[k:a].strip(), "inline_bracket"))
        pos += len(line) + 1
    best: list[Separator] = []
    for kind, seps in by_kind.items():
        run = _numbered_run(seps)
        if kind == "title_paren_n":
            # "TITLE(一)" lists must repeat the same title
            if len({s.title for s in run}) != 1:
                run = []
        if len(run) > len(best) or (len(run) == len(best) and run and run[0].start < best[0].start):
            best = run
    if len(best) == 1 and best[0].kind == "title_paren_n":
        return []
    return best


def _numbered_run(seps: list[Separator]) -> list[Separator]:
    """The longest run 1, 2, 3, … in document order (gaps of one number tolerated; a
    separator that does not continue the current run is skipped). One pass: linear."""
    best: list[Separator] = []
    run: list[Separator] = []
    for s in seps:
        if s.number == 1:
            if len(run) > len(best):
                best = run
            run = [s]
        elif run and run[-1].number < s.number <= run[-1].number + 2:
            run.append(s)
    return run if len(run) > len(best) else best


def announced_count(preamble: str) -> int | None:
    m = ANNOUNCE_RE.search(preamble)
    if not m:
        return None
    n = cn_number(m.group("num"))
    return n if n and 1 < n <= 100 else None


# ----------------------------------------------------------------------------- per-essay structure
def _is_title_line(line: str) -> bool:
    from .boilerplate import MARKER_START_RE

    s = line.strip()
    return (0 < len(s) <= 40 and s[-1] not in "。！？!?；;，,、" and not MARKER_START_RE.match(s)
            and not DATE_LINE_RE.match(s) and not s.startswith(("——", "--", "（", "(")))


def _is_org_line(line: str) -> bool:
    s = line.strip()
    return 2 <= len(s) <= 30 and not re.search(r"[。！？!?，,；;：:“”]", s) and bool(ORG_SUFFIX_RE.search(s))


@dataclass
class EssayParts:
    title_lines: list[tuple[int, int]] = field(default_factory=list)  # spans to remove
    title: str | None = None
    signoff: tuple[int, int] | None = None  # span in the body
    signoff_text: str | None = None
    year: int | None = None


def essay_parts(body: str, extract_title: bool) -> EssayParts:
    """Find the essay's own title line(s) at the top and the sign-off at the bottom.

    Offsets are relative to ``body``. Repeated title lines are all marked for removal
    (collapsed into ``title``)."""
    parts = EssayParts()
    lines = body.split("\n")
    offs, pos = [], 0
    for ln in lines:
        offs.append((pos, pos + len(ln)))
        pos += len(ln) + 1
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    if extract_title and idx:
        first = idx[0]
        if _is_title_line(lines[first]) and len(idx) > 1:
            t = lines[first].strip()
            parts.title = t
            parts.title_lines.append(offs[first])
            for i in idx[1:3]:
                if lines[i].strip() == t:
                    parts.title_lines.append(offs[i])
                else:
                    break
    # sign-off: last 1-3 non-empty lines with a date line and/or org line
    tail = idx[-3:]
    start_line = None
    has_date = False
    for i in reversed(tail):
        s = lines[i].strip()
        if DATE_LINE_RE.match(s):
            has_date = True
            start_line = i
        elif _is_org_line(s) and (has_date or i == idx[-1]):
            start_line = i
        else:
            break
    if start_line is not None and has_date and start_line != idx[0]:
        a = offs[start_line][0]
        parts.signoff = (a, len(body))
        parts.signoff_text = "\n".join(lines[i].strip() for i in idx if i >= start_line)
        parts.year = year_of(parts.signoff_text)
    return parts


def year_of(s: str) -> int | None:
    """First plausible year in ``s`` (Arabic ``2005年`` or Chinese ``二00五年``)."""
    m = YEAR_RE.search(s)
    cands = []
    if m:
        cands.append((m.start(), int(m.group(1))))
    m2 = CN_YEAR_RE.search(s)
    if m2:
        digits = "".join(str(CN_DIGITS.get(c, "")) for c in m2.group(1))
        if len(digits) == 4 and 1940 <= int(digits) <= 2039:
            cands.append((m2.start(), int(digits)))
    return min(cands)[1] if cands else None


BYLINE_DATE_RE = re.compile(r"((?:19[4-9]\d|20[0-3]\d))\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
NAME_YEAR_RE = starting_with("[12]", r"(?<!\d)(19[4-9]\d|20[0-3]\d)(?!\d)")


def document_year(signoff_year: int | None, title: str | None, body: str) -> tuple[int | None, str | None]:
    """(year, where it came from): the sign-off date, a year in the title, a full date in
    the opening lines (a byline such as ``——2023年3月5日在…``), else the first year the
    opening mentions (``text``: least reliable — often the year under review)."""
    if signoff_year:
        return signoff_year, "signoff"
    y = year_of(title or "")
    if y:
        return y, "title"
    m = BYLINE_DATE_RE.search(body[:300])
    if m:
        return int(m.group(1)), "byline"
    y = year_of(body[:300])
    return (y, "text") if y else (None, None)


def year_in_name(name: str) -> int | None:
    m = NAME_YEAR_RE.search(name.rsplit("/", 1)[-1])
    return int(m.group(1)) if m else None

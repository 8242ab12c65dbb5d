"""Numbered outline → section tree.

:func:`segment` finds the numbered headings of one document (``第一部分``, ``一、``, ``（一）``,
``1、``/``1.``, ``（1）``/``1)``, ``①``/``⑴``), at the start of a line or run into the text
after a sentence end, and nests them. Levels follow the order in which marker families first
appear in the document (a report that starts at ``1、`` has ``1、`` at level 1); ``style``
records the marker's conventional rank. Numbering continuity is the main evidence:

- a run-in marker (not at a line start) is kept only if it continues an open list
  (``二、`` after ``一、``) or starts one whose ``2`` follows; markers in a run of list items
  inside one sentence (``：（一）…；（二）…；``) are dropped;
- a marker that restarts at 1 nests under the open heading when the outer numbering resumes
  afterwards (or the open heading ends with ``：``); otherwise it is a sibling flagged
  ``restarted_number``;
- other irregularities are kept at line starts and recorded in ``issues``
  (``skipped_number``, ``repeated_number``, ``out_of_order``, ``marker_mismatch``).

:func:`sections_table` runs :func:`segment` over a documents table; :func:`outline_tree` and
:func:`render_outline` show one document's outline as an indented tree.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from .ingest.textutil import Scanner

if TYPE_CHECKING:  # pandas loads on first use (ingest workers call segment() only)
    import pandas as pd

COLUMNS = ["doc_id", "section_id", "parent_id", "level", "style", "marker", "number",
           "heading", "start", "end", "inline", "role", "issues"]

ROLES_PATH = Path(__file__).parent / "resources" / "section_roles.toml"

_CN = r"(?:[一二三四五六七八九]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_AR = r"[0-9０-９]{1,2}"
_NUMCH = "一二三四五六七八九十百千万零〇两"
MARKER_RE = Scanner(
    "[第一二三四五六七八九十（(0-9０-９\u2460-\u2487]",
    rf"(?P<part>第(?P<pn>{_CN}|{_AR})(?P<pk>部分|部份|章|节|節))(?![课課次届屆])"
    rf"|(?<![{_NUMCH}第])(?P<cn>{_CN})(?P<cnp>[、.．,，])(?!是)"
    rf"|(?P<pcn>[（(](?P<pcnn>{_CN})[)）])"
    rf"|(?P<pnum>[（(](?P<pnumn>{_AR})[)）])"
    rf"|(?<![0-9０-９.．A-Za-z（(])(?P<num>{_AR})(?P<nump>[、.．)）])(?![0-9０-９])"
    rf"|(?P<circ>[\u2460-\u2473\u2474-\u2487])",
    # a longer match's second character: a numeral or digit (第一, 十一, (一, 12) or the mark (一、 1.)
    then="[一二三四五六七八九十0-9０-９、.．,，)）]", single="[\u2460-\u2487]",
)
_SPACE = " \t\r\u3000\xa0"
_RUNIN_AFTER = "。！？；;!?：:】"  # a run-in marker must follow one of these (or a line start)
_SENTENCE_END = re.compile(r"[。！？!?\n]")
_TERM = re.compile(r"[。！？；;!?\n]|(?<![0-9])[：:]")
_WIDTH = str.maketrans("０１２３４５６７８９（），．：；", "0123456789(),.:;")
_LOOKAHEAD = 300  # candidates scanned for numbering evidence
_MAX_DEPTH = 8  # sub-lists nest at most this deep


@dataclass
class Section:
    """One numbered heading and the span of text it governs."""

    section_id: str
    parent_id: str | None
    level: int
    style: int
    marker: str
    number: int
    heading: str
    start: int
    end: int
    inline: bool = False
    role: str | None = None
    issues: str = ""


@dataclass
class _Cand:
    start: int
    mend: int  # end of the marker
    style: int
    family: str  # marker kind used for nesting: style + variant (部分/章/节, ①/⑴)
    number: int
    form: str  # marker shape for mismatch checks, e.g. "(N)", "N)", "N、"
    line_start: bool
    strong: bool  # run-in after 。！？ (not just ；：)
    weak: bool = False  # "三、四月" shape: a heading only if it continues a list


@dataclass
class _Open:
    sec: int  # index in the accepted list
    family: str
    number: int
    form: str  # the marker shape of the first item of its list
    head: "_Head"


# --------------------------------------------------------------------------- config
@lru_cache(maxsize=8)
def _load_config(path: str) -> dict[str, Any]:
    with open(path, "rb") as fh:
        cfg = tomllib.load(fh)
    roles = cfg.get("roles", {})
    order = roles.get("order") or [k for k in roles if k != "order"]
    heading = cfg.get("heading", {})
    return {
        "roles": [(name, tuple(roles.get(name, {}).get("cues", ()))) for name in order],
        "max_chars": int(heading.get("max_chars", 40)),
        "min_chars": int(heading.get("min_chars", 4)),
        "body_cues": tuple(heading.get("body_cues", ())),
    }


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Cue words for roles and run-in headings (default: ``resources/section_roles.toml``)."""
    return _load_config(str(path or ROLES_PATH))


@lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc

        return opencc.OpenCC("t2s").convert
    except Exception:  # pragma: no cover - opencc is a dependency, but stay usable without it
        return lambda s: s


def heading_role(heading: str, config: dict[str, Any] | None = None) -> str:
    """The role of a top-level heading from the cue words (``other`` if none matches)."""
    cfg = config or load_config()
    return _role(heading, tuple(cfg["roles"]))


@lru_cache(maxsize=65536)
def _role(heading: str, roles: tuple) -> str:
    """Cached: the same headings (指导思想, 主要工作 …) recur across thousands of documents."""
    text = _t2s()(heading)
    for name, rx in _role_patterns(roles):
        if rx.search(text):
            return name
    return "other"


@lru_cache(maxsize=8)
def _role_patterns(roles: tuple) -> list[tuple[str, re.Pattern]]:
    """One alternation per role (a regex scan instead of a substring test per cue word)."""
    return [(name, re.compile("|".join(map(re.escape, cues)))) for name, cues in roles if cues]


# --------------------------------------------------------------------------- markers
_CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", 1)}


def _cn_number(s: str) -> int:
    digits = _CN_DIGITS
    if "十" not in s:
        return digits[s]
    tens, _, ones = s.partition("十")
    return digits.get(tens, 1) * 10 + digits.get(ones, 0)


def _number(s: str) -> int:
    s = s.translate(_WIDTH)
    return int(s) if s.isdigit() else _cn_number(s)


def _classify(m: re.Match) -> tuple[int, str, int, str] | None:
    """(style, family, number, form) of a marker match, or None if it is not one."""
    g = m.groupdict()
    if g["part"]:
        kind = {"部份": "部分", "節": "节"}.get(g["pk"], g["pk"])
        return 0, "0" + kind, _number(g["pn"]), "第N" + kind
    if g["cn"]:
        return 1, "1", _number(g["cn"]), "N" + g["cnp"].translate(_WIDTH)
    if g["pcn"]:
        return 2, "2", _number(g["pcnn"]), "(N)"
    if g["pnum"]:
        n = _number(g["pnumn"])
        return (4, "4", n, "(N)") if n else None
    if g["num"]:
        n = _number(g["num"])
        p = g["nump"].translate(_WIDTH)
        if not n:
            return None
        return (4, "4", n, "N)") if p in ")）" else (3, "3", n, "N" + p)
    c = ord(g["circ"])
    if c < 0x2474:
        return 5, "5circled", c - 0x2460 + 1, "①"
    return 5, "5paren", c - 0x2474 + 1, "⑴"


def _candidates(text: str) -> list[_Cand]:
    """Every marker at a line start or after a sentence end, minus in-sentence list items."""
    cands: list[_Cand] = []
    for m in MARKER_RE.finditer(text):
        kind = _classify(m)
        if kind is None:
            continue
        i = m.start() - 1
        while i >= 0 and text[i] in _SPACE and m.start() - i < 12:
            i -= 1
        line_start = i < 0 or text[i] == "\n"
        if not line_start and text[i] not in _RUNIN_AFTER:
            continue
        style, family, number, form = kind
        strong = line_start or text[i] in "。！？!?"
        nxt = text[m.end():m.end() + 2]
        weak = style == 1 and nxt[:1] in tuple(_NUMCH) and (
            not line_start or nxt[0] == "两" or nxt[1:] in tuple("、,，月"))  # 三、四月 一、两年
        if weak and form != "N、" or (form in ("N,", "N.") and not strong):
            continue  # 五.一节, 。一，…
        cands.append(_Cand(m.start(), m.end(), style, family, number, form, line_start, strong, weak))
    # list items inside one sentence: consecutive numbers of one family, no sentence end between
    last: dict[str, int] = {}
    drop: set[int] = set()
    for k, c in enumerate(cands):
        j = last.get(c.family)
        if j is not None and c.number == cands[j].number + 1 and not c.line_start:
            if not _SENTENCE_END.search(text, cands[j].mend, c.start):
                drop.add(k)
                if not cands[j].line_start:
                    drop.add(j)
        last[c.family] = k
    return [c for k, c in enumerate(cands) if k not in drop]


# --------------------------------------------------------------------------- headings
class _Head(NamedTuple):
    text: str
    guessed: bool  # the phrase runs into the body: its end is a guess
    standalone: bool  # marker + phrase fill their line (a heading line, not a list paragraph)
    end: int  # where the phrase ends in the text


_OPEN_CLOSE = (("《", "》"), ("“", "”"), ("（", "）"), ("(", ")"))


def _heading(text: str, pos: int, line_start: bool, cfg: dict[str, Any]) -> _Head:
    """The heading phrase after a marker ending at ``pos``."""
    n = len(text)
    while pos < n and text[pos] in _SPACE:
        pos += 1
    if pos >= n:
        return _Head("", False, True, pos)
    own_line = True
    if text[pos] == "\n":  # marker alone on its line: the phrase opens the next line
        q = pos
        while q < n and q - pos < 40 and (text[q] == "\n" or text[q] in _SPACE):
            q += 1
        if q >= n or MARKER_RE.match(text, q):
            return _Head("", False, True, pos)
        pos, own_line = q, False
    max_chars, min_chars = cfg["max_chars"], cfg["min_chars"]
    window = min(n, pos + 200)
    t = _TERM.search(text, pos, window)
    for _ in range(3):  # a title in 《…》 or “…” broken over lines: read on to its close
        if t is None or t.group() != "\n":
            break
        seg = text[pos:t.start()]
        close = next((c for o, c in _OPEN_CLOSE if seg.count(o) > seg.count(c)), None)
        k = text.find(close, t.start(), window) if close else -1
        if k < 0:
            break
        t = _TERM.search(text, k, window)
    stop = t.start() if t else window
    phrase = text[pos:stop].replace("\n", "")
    rest = text[stop:text.find("\n", stop, window) if "\n" in text[stop:window] else window]
    alone = own_line and not rest.strip(_SPACE + "。！？；;!?：:")
    if len(phrase) <= (max_chars * 3 // 2 if line_start else max_chars):
        return _Head(_clean(phrase), False, alone, stop)
    if (t is not None and t.group() == "\n" or stop == n) and len(phrase) <= 2 * max_chars:
        return _Head(_clean(phrase), False, alone, stop)  # a long heading line on its own
    # run into the body: cut before a body opener or at the first comma, else at max_chars
    span = text[pos:pos + max_chars + 1]
    cuts = [span.find(cue, min_chars) for cue in cfg["body_cues"] + ("，", ",")]
    cut = min((k for k in cuts if k >= min_chars), default=max_chars)
    return _Head(_clean(span[:cut]), True, False, pos + cut)


def _clean(s: str) -> str:
    return s.strip(_SPACE + ".．、,，:：").strip()


# --------------------------------------------------------------------------- segmenter
class _Segmenter:
    def __init__(self, text: str, cfg: dict[str, Any]):
        self.text = text
        self.cfg = cfg
        self.cands = _candidates(text)
        self.stack: list[_Open] = []
        self.rank: dict[str, int] = {}
        self.out: list[Section] = []
        self.first = len(text) - len(text.lstrip(_SPACE + "\n"))
        self.heads: dict[int, _Head] = {}
        self.head_ends: list[int] = []
        self.budget = 10 * len(self.cands) + 10_000  # lookahead steps: keeps the run linear
        self.next_same: list[int] = [-1] * len(self.cands)  # next candidate numbered n+1
        nearest: dict[tuple[str, int], int] = {}
        for k in range(len(self.cands) - 1, -1, -1):
            c = self.cands[k]
            self.next_same[k] = nearest.get((c.family, c.number + 1), -1)
            nearest[(c.family, c.number)] = k

    def _head(self, k: int) -> _Head:
        if k not in self.heads:
            c = self.cands[k]
            self.heads[k] = _heading(self.text, c.mend, c.line_start, self.cfg)
        return self.heads[k]

    def run(self) -> list[Section]:
        for k, c in enumerate(self.cands):
            self._place(k, c)
        self._finish()
        return self.out

    # -- placing one candidate
    def _place(self, k: int, c: _Cand) -> None:
        stack = self.stack
        same = [j for j in range(len(stack) - 1, -1, -1) if stack[j].family == c.family]
        if same:
            cont = next((j for j in same if c.number == stack[j].number + 1), None)
            if cont is not None:
                return self._sibling(k, cont, "")
            if c.weak:
                return None
            depth = self._nests(k, c, same[0]) if c.number == 1 else None
            if depth is not None:
                if c.line_start or c.strong or self._has_next(k, c):
                    return self._child(k, depth, "")
                return None
            if not c.line_start:
                return None  # a run-in marker that breaks the numbering: not a heading
            prev = stack[same[0]].number
            issue = ("repeated_number" if c.number == prev else "skipped_number" if c.number > prev
                     else "restarted_number" if c.number == 1 else "out_of_order")
            if issue == "restarted_number":  # a new list: its own marker shape
                return self._child(k, same[0], issue)
            return self._sibling(k, same[0], issue)
        if c.weak:
            return None
        if not c.line_start:
            at_start = c.start == self.first
            if c.number != 1:
                return None
            if not (at_start or self._has_next(k, c)
                    or (c.strong and c.style in (0, 1) and c.form in ("N、", "第N部分", "第N章", "第N节"))):
                return None
        if c.family not in self.rank:  # parts/chapters outrank every other family
            self.rank[c.family] = len(self.rank) - (100 if c.style == 0 else 0)
        r = self.rank[c.family]
        depth = len(stack)
        if c.number != 1 or c.style == 0:  # a list opening at 1 goes under the latest heading
            while depth and self.rank.get(stack[depth - 1].family, 0) >= r:
                depth -= 1
        return self._child(k, depth, "skipped_number" if c.number != 1 else "")

    def _nests(self, k: int, c: _Cand, i: int) -> int | None:
        """Where a marker restarting at 1 opens a sub-list: a stack depth, or None (a restart).

        ``stack[i]`` is the open entry of the same family. The sub-list goes under the open
        heading if that ends with a colon, if a deeper open list resumes after this run
        (四、（一）一、二、（二）), or if the outer list resumes (四、一、二、五、) or the open
        heading is a heading line and this item a paragraph; when the outer list resumes but
        the open item is a paragraph and this one a heading line, it goes under ``stack[i]``.
        """
        stack = self.stack
        if len(stack) >= _MAX_DEPTH:
            return None
        top, head = stack[-1].head, self._head(k)
        if top.text.endswith(("：", ":")) or self._ends_with_colon(stack[-1]):
            return len(stack)
        want = {(o.family, o.number + 1): j for j, o in enumerate(stack)}  # innermost wins
        resumed, run = -1, 2
        for d in self.cands[k + 1:k + 1 + min(_LOOKAHEAD, max(self.budget, 0))]:
            self.budget -= 1
            if d.family == c.family and d.number == run:
                run += 1
                continue
            resumed = want.get((d.family, d.number), -1)
            if resumed >= 0:
                break
        if resumed > i:
            return len(stack)
        if resumed == i:
            return i + 1 if head.standalone and not top.standalone else len(stack)
        return len(stack) if top.standalone and not head.standalone else None

    def _ends_with_colon(self, o: _Open) -> bool:
        sec = self.out[o.sec]
        end = self.text.find("\n", sec.start, sec.start + 120)
        return end > 0 and self.text[:end].rstrip(_SPACE).endswith(("：", ":"))

    def _has_next(self, k: int, c: _Cand) -> bool:
        return 0 < self.next_same[k] - k <= _LOOKAHEAD

    def _sibling(self, k: int, j: int, issue: str) -> None:
        list_form = self.stack[j].form
        if list_form != self.cands[k].form:
            issue = ";".join(filter(None, [issue, "marker_mismatch"]))
        self._child(k, j, issue, list_form)

    def _child(self, k: int, depth: int, issue: str, list_form: str | None = None) -> None:
        """Open a section for candidate ``k`` under ``stack[depth - 1]`` (level ``depth + 1``)."""
        c, head = self.cands[k], self._head(k)
        del self.stack[depth:]
        parent = self.out[self.stack[-1].sec].section_id if self.stack else None
        sec = Section(section_id=f"s{len(self.out) + 1:03d}", parent_id=parent, level=depth + 1,
                      style=c.style, marker=self.text[c.start:c.mend], number=c.number,
                      heading=head.text, start=c.start, end=len(self.text),
                      inline=(not c.line_start) or head.guessed, issues=issue)
        self.out.append(sec)
        self.head_ends.append(head.end)
        self.stack.append(_Open(len(self.out) - 1, c.family, c.number, list_form or c.form, head))

    # -- spans, headings clipped at the next section, roles
    def _finish(self) -> None:
        open_: list[Section] = []
        for s in self.out:
            while open_ and open_[-1].level >= s.level:
                open_.pop().end = s.start
            open_.append(s)
        for a, b, head_end in zip(self.out, self.out[1:], self.head_ends):
            if head_end > b.start:  # the phrase ran over the next marker
                region = self.text[a.start + len(a.marker):b.start]
                a.heading = _clean(region.strip(_SPACE + "\n").split("\n", 1)[0])
        roles: dict[str, str] = {}
        for s in self.out:
            if s.level == 1:
                if s.heading not in roles:
                    roles[s.heading] = heading_role(s.heading, self.cfg)
                s.role = roles[s.heading]


def segment(text: str, config: dict[str, Any] | None = None) -> list[Section]:
    """The numbered sections of one document, in text order (see the module docstring).

    >>> [(s.level, s.marker, s.heading) for s in segment("一、总体要求\\n（一）学习\\n二、问题")]
    [(1, '一、', '总体要求'), (2, '（一）', '学习'), (1, '二、', '问题')]
    """
    if not isinstance(text, str) or not text:
        return []
    return _Segmenter(text, config or load_config()).run()


def section_columns(docs: Iterable[tuple[str, str]], config: dict[str, Any] | None = None) -> dict[str, list]:
    """The rows of :func:`sections_table` for ``(doc_id, text)`` pairs, as columns (ids
    ``{doc_id}-sNNN``). Ingestion calls this inside its shard tasks, so sections are found in
    parallel with cleaning (columns: no dict per row on the way to Arrow)."""
    config = config or load_config()
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    add = [cols[c].append for c in COLUMNS]
    for doc_id, text in docs:
        secs = segment(text if isinstance(text, str) else "", config)
        ids = {s.section_id: f"{doc_id}-s{n:03d}" for n, s in enumerate(secs, 1)}
        for s in secs:
            for f, v in zip(add, (doc_id, ids[s.section_id], ids.get(s.parent_id) if s.parent_id else None,
                                  s.level, s.style, s.marker, s.number, s.heading, s.start, s.end, s.inline,
                                  s.role, s.issues)):
                f(v)
    return cols


def section_rows(doc_id: str, text: str, config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows of :func:`sections_table` for one document (ids ``{doc_id}-sNNN``)."""
    cols = section_columns([(doc_id, text)], config)
    return [dict(zip(COLUMNS, vals)) for vals in zip(*(cols[c] for c in COLUMNS))]


def sections_table(documents: pd.DataFrame, config: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per section of every document (columns ``doc_id``, ``text`` in, :data:`COLUMNS` out)."""
    import pandas as pd

    config = config or load_config()
    rows: list[dict[str, Any]] = []
    for doc_id, text in zip(documents["doc_id"], documents["text"]):
        rows.extend(section_rows(doc_id, text, config))
    df = pd.DataFrame(rows, columns=COLUMNS).astype(
        {"level": "int64", "style": "int64", "number": "int64", "start": "int64", "end": "int64",
         "inline": "bool", "parent_id": object, "role": object})
    for col in ("parent_id", "role"):  # missing values as None, not NaN
        df[col] = df[col].where(df[col].notna(), None)
    return df


# --------------------------------------------------------------------------- outline
@dataclass
class OutlineNode:
    """A node of a document outline; the root stands for the document itself."""

    heading: str
    marker: str = ""
    level: int = 0
    number: int | None = None
    section_id: str | None = None
    role: str | None = None
    issues: str = ""
    start: int | None = None
    end: int | None = None
    children: list["OutlineNode"] = field(default_factory=list)

    def walk(self):
        """This node and all descendants, depth first."""
        yield self
        for ch in self.children:
            yield from ch.walk()

    def render(self) -> str:
        lines = [self.heading]
        for node in self.walk():
            if node is self:
                continue
            note = f"  [{node.role}]" if node.role and node.role != "other" else ""
            if node.issues:
                note += f"  !{node.issues}"
            lines.append("  " * node.level + f"{node.marker}{node.heading}{note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def outline_tree(sections: pd.DataFrame, doc_id: str, documents: pd.DataFrame | None = None) -> OutlineNode:
    """The outline of ``doc_id`` as a tree of :class:`OutlineNode` (title from ``documents``)."""
    title = str(doc_id)
    if documents is not None and "title" in documents.columns:
        hit = documents.loc[documents["doc_id"] == doc_id, "title"]
        if len(hit) and isinstance(hit.iloc[0], str) and hit.iloc[0]:
            title = f"{doc_id}  {hit.iloc[0]}"
    root = OutlineNode(heading=title)
    rows = sections[sections["doc_id"] == doc_id].sort_values("start", kind="stable")
    by_id: dict[str, OutlineNode] = {}
    for r in rows.itertuples(index=False):
        node = OutlineNode(heading=r.heading, marker=r.marker, level=int(r.level), number=int(r.number),
                           section_id=r.section_id, role=r.role if isinstance(r.role, str) else None,
                           issues=r.issues if isinstance(r.issues, str) else "",
                           start=int(r.start), end=int(r.end))
        by_id[r.section_id] = node
        parent = by_id.get(r.parent_id) if isinstance(r.parent_id, str) else None
        (parent or root).children.append(node)
    return root


def render_outline(sections: pd.DataFrame, doc_id: str, documents: pd.DataFrame | None = None) -> str:
    """The outline of ``doc_id`` as indented text (one heading a line)."""
    return outline_tree(sections, doc_id, documents).render()


__all__ = ["Section", "segment", "sections_table", "OutlineNode", "outline_tree", "render_outline",
           "heading_role", "load_config", "COLUMNS"]

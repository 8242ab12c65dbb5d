"""Site chrome removal: line classification plus cross-page repeated-line learning.

Three kinds of evidence, all general (no rule is keyed to one site):

* **line shape** — spam keyword headers, breadcrumbs, pagination runs, page numbers,
  trailing counters, Latin-only debris, related-article blocks;
* **patterns** from ``resources/boilerplate.toml`` (metadata, download prompts, copyright
  and takedown notices, collection intros at sentence level, inline spam);
* **repetition across pages** (CCNet-style): a short line that recurs in several pages of
  the same input set is template, unless it is a plausible heading. Counting hashes the
  normalised line to 8 bytes, so the statistics stay compact (count → merge → apply).
"""
from __future__ import annotations

import hashlib
import re
from itertools import accumulate
from operator import add
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .textutil import CJK_RE, TERMINAL_END, cjk_count, compile_guarded, starting_with

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

Edits = list[tuple]


@dataclass(frozen=True)
class Rule:
    name: str
    scope: str  # line | inline | sentence
    regex: re.Pattern
    max_len: int = 10**9


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> tuple[Rule, ...]:
    """Rules from ``resources/boilerplate.toml`` (or a user file with the same layout)."""
    p = Path(path) if path else RESOURCES / "boilerplate.toml"
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    rules = []
    for r in data.get("rule", []):
        rules.append(Rule(r["name"], r.get("scope", "line"), compile_guarded(r["pattern"]),
                          int(r.get("max_len", 10**9))))
    return tuple(rules)


# ----------------------------------------------------------------------------- line shapes
SPAM_TERMS = ("国产", "在线", "观看", "日韩", "欧美", "精品", "免费", "视频", "播放", "亚洲", "伦理",
              "无码", "一区", "二区", "av", "色网", "久久", "成人", "高清", "影院", "午夜", "麻豆")
MARKER_START_RE = re.compile(
    r"^\s*(第[一二三四五六七八九十\d]{1,3}[部分章节篇]|[一二三四五六七八九十]{1,3}\s*[、.．,，]|[（(][一二三四五六七八九十\d]{1,3}[)）]"
    r"|\d{1,2}\s*[、.．)）]|[①-⑳⑴-⒇])"
)
PAGE_NUMBER_RE = re.compile(r"^\s*([—–\-－_~]{1,3}\s*\d{1,4}\s*[—–\-－_~]{1,3}|第\s*\d{1,4}\s*页|\d{1,3}\s*/\s*\d{1,3})\s*$")
PAGINATION_CHARS_RE = re.compile(r"^[共第当前页上下一首尾末张篇\d,，/:：.\s>»«<]+$")
RELATED_RE = re.compile(r"^\s*(相关范文推荐|相关范文|相关推荐|相关文章|相关阅读|推荐阅读|延伸阅读|猜你喜欢|热门文章|热门推荐|精彩推荐|你可能感兴趣|你可能还喜欢|更多相关|相关文档|最新文章|热门范文|同类文章)[:：\s]*$")
ENUMERATOR_LINE_RE = re.compile(r"^(第[一二三四五六七八九十]{1,3}|[一二三四五六七八九十]{1,3}是|首先|其次|再次|最后|另外|此外)[，,、：:]?$")
UNMARKED_HEADING_RE = re.compile(r"^(结束语|前言|引言|序言|结语|后记|说明|附件\d?|附录|摘要|总结)[：:]?$")
LATIN_ONLY_RE = re.compile(r"^[A-Za-z][A-Za-z .,'-]{0,40}$")
# each alternative may only start after a non-space: linear on long whitespace runs
BREADCRUMB_SPLIT_RE = starting_with(r"[\s>›»/→]", r"(?<!\s)\s*[>›»]\s*|(?<!\s)\s+→\s+|(?<!\s)\s*/\s+")


def is_spam_line(line: str) -> bool:
    items = [x for x in re.split(r"[,，、|｜ ]+", line) if x]
    if len(items) < 4 or "。" in line:
        return False
    avg = sum(len(x) for x in items) / len(items)
    hits = sum(line.lower().count(t) for t in SPAM_TERMS)
    return avg <= 14 and hits >= 2


def is_breadcrumb(line: str) -> bool:
    if len(line) > 150:  # first: the split below is slow on long whitespace runs
        return False
    if not any(c in line for c in ">›»→/"):  # every separator has one: no split, one part
        return False
    parts = [p for p in BREADCRUMB_SPLIT_RE.split(line.strip()) if p]
    if len(parts) < 3:
        return False
    return all(len(p) <= 30 and not any(c in p for c in "。！？") for p in parts)


def is_heading_like(line: str) -> bool:
    from .split import is_separator_line

    return bool(MARKER_START_RE.match(line)) or is_separator_line(line)


# ----------------------------------------------------------------------------- template learning
def line_key(line: str) -> bytes | None:
    """Normalised hash of one line for cross-page repetition counting: whitespace removed,
    2 to 50 characters left (else None), digit runs folded to 0 (see :func:`line_keys`)."""
    return line_keys(line.replace("\n", " "))[0]


_DIGITS_RE = re.compile(r"\d+")
_INLINE_SPACE_RE = re.compile(r"[^\S\n]+")


def line_keys(text: str) -> list[bytes | None]:
    """The key of every line of ``text`` (``text.split("\\n")``): whitespace removed, 2 to 50
    characters left (else None), digit runs folded to 0, blake2b (8 bytes).

    Most characters of a page sit in long prose lines that get no key, so those are
    dismissed before any regex runs: a line over 50 characters that is printable
    (``str.isprintable`` is false for every whitespace character except the space) and has
    no space keeps its length, so it gets None. Only the other lines are normalised."""
    blake2b = hashlib.blake2b
    ws_sub, digits_sub = _INLINE_SPACE_RE.sub, _DIGITS_RE.sub
    keys: list[bytes | None] = []
    for line in text.split("\n"):
        n = len(line)
        if n < 2 or (n > 50 and " " not in line and line.isprintable()):
            keys.append(None)
            continue
        bare = ws_sub("", line)
        keys.append(blake2b(digits_sub("0", bare).encode("utf-8"), digest_size=8).digest()
                    if 2 <= len(bare) <= 50 else None)
    return keys


def page_line_keys(text: str) -> set[bytes]:
    keys = set(line_keys(text))
    keys.discard(None)
    return keys  # type: ignore[return-value]


def page_key_array(text: str):
    """The page's distinct line keys as a sorted ``uint64`` array (8 bytes per key: the
    compact form the count pass ships between processes)."""
    import numpy as np

    keys = page_line_keys(text)
    return np.unique(np.fromiter((int.from_bytes(k, "big") for k in keys), np.uint64, len(keys)))


class LineCounter:
    """Pages per line key over the whole corpus, held as two numpy arrays (sorted keys,
    counts): 16 bytes per distinct line instead of a Python dict entry (~100+ bytes), so
    the template statistics stay compact at millions of distinct lines."""

    def __init__(self) -> None:
        import numpy as np

        self.keys = np.zeros(0, np.uint64)
        self.counts = np.zeros(0, np.int64)
        self._pending: list[tuple] = []
        self._n_pending = 0

    def add(self, keys, counts=None) -> None:
        """Add keys (one per page that has them) or (keys, counts) from a shard."""
        import numpy as np

        counts = np.ones(len(keys), np.int64) if counts is None else np.asarray(counts, np.int64)
        self._pending.append((np.asarray(keys, np.uint64), counts))
        self._n_pending += len(keys)
        if self._n_pending > max(2_000_000, len(self.keys)):
            self._reduce()

    def _reduce(self) -> None:
        import numpy as np

        if not self._pending:
            return
        keys = np.concatenate([self.keys] + [k for k, _ in self._pending])
        counts = np.concatenate([self.counts] + [c for _, c in self._pending])
        self._pending, self._n_pending = [], 0
        uniq, inv = np.unique(keys, return_inverse=True)
        self.keys, self.counts = uniq, np.bincount(inv, weights=counts, minlength=len(uniq)).astype(np.int64)

    def __len__(self) -> int:
        self._reduce()
        return len(self.keys)

    def at_least(self, need: int) -> frozenset[bytes]:
        """Keys seen in at least ``need`` pages, as the 8-byte digests :func:`line_key` gives."""
        self._reduce()
        return frozenset(int(k).to_bytes(8, "big") for k in self.keys[self.counts >= need])


def shard_key_counts(texts: Iterable[str]):
    """(keys, pages) arrays over some pages: what one count task returns."""
    import numpy as np

    arrays = [page_key_array(t) for t in texts]
    if not arrays:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    keys, counts = np.unique(np.concatenate(arrays), return_counts=True)
    return keys, counts.astype(np.int64)


def template_keys(counts: "LineCounter", n_pages: int, min_pages: int = 3) -> frozenset[bytes]:
    """Keys of lines seen in at least ``min_pages`` pages (never fewer than 3)."""
    need = max(3, min_pages)
    if n_pages < need:
        return frozenset()
    return counts.at_least(need)


# ----------------------------------------------------------------------------- classification
def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line (C-speed: split, lengths, running sums)."""
    lengths = list(map(len, text.split("\n")))
    starts = list(accumulate([n + 1 for n in lengths[:-1]], initial=0))
    return list(zip(starts, map(add, starts, lengths)))


def _remove_line(text: str, a: int, b: int, rule: str) -> tuple:
    """Remove a line together with its newline (the following one, else the preceding)."""
    if b < len(text) and text[b] == "\n":
        return (a, b + 1, "", rule)
    if a > 0 and text[a - 1] == "\n":
        return (a - 1, b, "", rule)
    return (a, b, "", rule)


def line_edits(text: str, rules: tuple[Rule, ...] | None = None) -> Edits:
    """Whole-line and block removals by shape and by the line rules."""
    rules = rules if rules is not None else load_rules()
    line_rules = [r for r in rules if r.scope == "line"]
    spans = _lines(text)
    verdict: list[str | None] = [None] * len(spans)
    first_content = next((i for i, (a, b) in enumerate(spans) if text[a:b].strip()), None)
    for i, (a, b) in enumerate(spans):
        line = text[a:b].strip()
        if not line:
            continue
        if (i == first_content or i <= 3) and is_spam_line(line):
            verdict[i] = "spam_keywords"
        elif is_breadcrumb(line):
            verdict[i] = "breadcrumb"
        elif PAGE_NUMBER_RE.match(line):
            verdict[i] = "page_number"
        elif LATIN_ONLY_RE.match(line) and len(line.split()) <= 4:
            verdict[i] = "latin_debris"
        else:
            for r in line_rules:
                if len(line) <= r.max_len and r.regex.search(line):
                    verdict[i] = r.name
                    break
    # pagination: runs of short lines made only of pagination characters, containing 页
    i = 0
    while i < len(spans):
        j = i
        while j < len(spans):
            a, b = spans[j]
            s = text[a:b].strip()
            if s and (len(s) > 14 or not PAGINATION_CHARS_RE.match(s)):
                break
            j += 1
        run = "".join(text[a:b].strip() for a, b in spans[i:j])
        if j > i and "页" in run and re.search(r"\d", run):
            for k in range(i, j):
                if text[spans[k][0]:spans[k][1]].strip():
                    verdict[k] = "pagination"
        i = max(j, i + 1)
    # multi-line notices whose link words were broken onto their own lines: the fragments
    # that continue a notice line belong to it
    for i in range(len(spans)):
        if verdict[i] != "copyright_notice":
            continue
        prev = text[spans[i][0]:spans[i][1]].strip()
        j = i + 1
        while j < len(spans):
            s = text[spans[j][0]:spans[j][1]].strip()
            if not s or verdict[j]:
                break
            short = len(s) <= 12 and not any(c in s for c in "。！？!?")
            cont = s[0] in "、，,。；;：:）)》”」』"
            if not (short or cont or (prev[-1] not in TERMINAL_END and len(s) <= 80)):
                break
            verdict[j] = "copyright_notice"
            prev = s
            j += 1
    # trailing counter: digits-only last content line
    last = max((k for k, (a, b) in enumerate(spans) if text[a:b].strip() and verdict[k] is None), default=None)
    if last is not None and re.fullmatch(r"\d{3,}", text[spans[last][0]:spans[last][1]].strip()):
        verdict[last] = "trailing_counter"
    # related-article blocks: from the heading to the next essay separator (or the end)
    from .split import is_separator_line

    k = 0
    while k < len(spans):
        a, b = spans[k]
        if RELATED_RE.match(text[a:b]):
            m = k
            while m < len(spans) and (m == k or not is_separator_line(text[spans[m][0]:spans[m][1]].strip())):
                if text[spans[m][0]:spans[m][1]].strip():
                    verdict[m] = "related_articles"
                m += 1
            k = m
        else:
            k += 1
    return _non_overlapping([_remove_line(text, a, b, v) for (a, b), v in zip(spans, verdict) if v])


def inline_edits(text: str, rules: tuple[Rule, ...] | None = None) -> Edits:
    """Inline matches and whole sentences (collection intros) inside kept lines."""
    rules = rules if rules is not None else load_rules()
    edits: Edits = []
    for r in rules:
        if r.scope == "inline":
            edits += [(m.start(), m.end(), "", r.name) for m in r.regex.finditer(text) if m.end() > m.start()]
        elif r.scope == "sentence":
            for m in r.regex.finditer(text):
                a, b = sentence_bounds(text, m.start(), m.end())
                edits.append((a, b, "", r.name))
    return _non_overlapping(edits)


SENT_STOP = "。！？!?\n"


def sentence_bounds(text: str, a: int, b: int, limit: int = 300) -> tuple[int, int]:
    """The sentence around [a, b): back to the previous terminator or line start, forward
    through the next terminator (and closing quotes) or line end."""
    s = a
    while s > 0 and a - s < limit and text[s - 1] not in SENT_STOP and not (text[s - 1] == "】" and text[s] == "【"):
        s -= 1
    e = b
    while e < len(text) and e - b < limit and text[e] not in SENT_STOP:
        e += 1
    while e < len(text) and text[e] in "。！？!?”’」』)）":
        e += 1
    return s, e


def _non_overlapping(edits: Edits) -> Edits:
    """Merge overlapping removals (same kind) so the batch is valid for TrackedText.edit."""
    edits = sorted(edits)
    out: Edits = []
    for e in edits:
        if out and e[0] < out[-1][1]:
            prev = out[-1]
            if e[1] > prev[1]:
                out[-1] = (prev[0], e[1], "", prev[3] if prev[3] == e[3] else f"{prev[3]}+{e[3]}")
            continue
        out.append(e)
    return out


def template_edits(text: str, templates: frozenset[bytes]) -> Edits:
    """Remove lines whose key is a learned template, except plausible headings, the page's
    first line (its title), sentences, salutations, bylines and dates (sign-offs recur with
    the digits folded but are content)."""
    from .split import DATE_LINE_RE

    if not templates:
        return []
    spans = _lines(text)
    nonblank = [i for i, (a, b) in enumerate(spans) if text[a:b].strip()]
    first, head = (nonblank[0] if nonblank else None), set(nonblank[:5])
    edits = []
    for i, ((a, b), k) in enumerate(zip(spans, line_keys(text))):
        if k is None or k not in templates:  # a set lookup before the exceptions: few lines are templates
            continue
        line = text[a:b].strip()
        if i == first or line[-1] in "：:！!。？?，,、；;":
            continue
        if (is_heading_like(line) or ENUMERATOR_LINE_RE.match(line) or UNMARKED_HEADING_RE.match(line)
                or DATE_LINE_RE.match(line)):
            continue
        if i in head and len(line) <= 8 and all(c.isalpha() and not c.isascii() for c in line):
            continue  # a byline (speaker, office) near the top, not site chrome
        edits.append(_remove_line(text, a, b, "repeated_template"))
    return _non_overlapping(edits)


def whitespace_edits(text: str) -> Edits:
    """Strip each line and drop blank lines, so paragraphs are separated by one ``\\n``."""
    edits: Edits = []
    spans = _lines(text)
    prev_kept = False
    for a, b in spans:
        line = text[a:b]
        s = line.strip()
        if not s:
            # drop the blank line with its newline (the following one, or the preceding one at the end)
            if b < len(text):
                edits.append((a, b + 1, "", "blank_line"))
            elif a > 0 and prev_kept:
                edits.append((a - 1, b, "", "blank_line"))
            elif b > a:
                edits.append((a, b, "", "blank_line"))
            continue
        prev_kept = True
        lead = len(line) - len(line.lstrip())
        trail = len(line) - len(line.rstrip())
        if lead:
            edits.append((a, a + lead, "", "whitespace"))
        if trail:
            edits.append((b - trail, b, "", "whitespace"))
    # merge touching edits (a trailing-space edit followed by a blank-line edit)
    out: Edits = []
    for e in edits:
        if out and out[-1][1] == e[0] and out[-1][3] == e[3]:
            out[-1] = (out[-1][0], e[1], "", e[3])
        elif out and out[-1][1] > e[0]:
            out[-1] = (out[-1][0], max(out[-1][1], e[1]), "", out[-1][3])
        else:
            out.append(e)
    # a trailing newline at the very end of the text
    if text.endswith("\n") and not (out and out[-1][1] == len(text)):
        out.append((len(text) - 1, len(text), "", "blank_line"))
    return out


# ----------------------------------------------------------------------------- link-keyword rejoin
def rejoin_edits(text: str) -> Edits:
    """Rejoin sentences broken across lines: keywords the site turned into links and that
    landed on their own line (``优秀\\n教案\\n、课题研究``), and hard-wrapped lines.

    Expects whitespace-normalised text (no blank lines). Joins line i and i+1 when
    * line i+1 starts with continuation punctuation (、，。；：)” …), or
    * line i+1 is a short keyword (≤ 8 chars, no sentence punctuation), the running line is
      open (no terminal punctuation, ≥ 10 chars) and line i+2 continues the sentence, or
    * line i is a long open line (≥ 30 chars, not a heading) and line i+1 continues in
      Chinese (hard wrap).
    """
    from .split import DATE_LINE_RE, is_separator_line

    spans = _lines(text)
    lines = [text[a:b] for a, b in spans]
    edits: Edits = []
    running = lines[0] if lines else ""
    keyword_joined = False
    for i in range(len(lines) - 1):
        cur, nxt = lines[i], lines[i + 1]
        after = lines[i + 2] if i + 2 < len(lines) else ""
        join = False
        if cur and nxt and not is_separator_line(nxt) and not is_separator_line(running):
            open_end = running[-1] not in TERMINAL_END + "”」』）)》】"
            if keyword_joined or ENUMERATOR_LINE_RE.match(cur) or (len(nxt) == 1 and CJK_RE.match(nxt) and open_end) or (
                    nxt[0] in "、，,。；;：:）)”」』》!！?？" and running[-1] not in "。！？!?"):
                join = True
                keyword_joined = False
            elif (len(nxt) <= 8 and not re.search(r"[。！？!?；;：:，,、]", nxt) and open_end
                  and not MARKER_START_RE.match(nxt) and not DATE_LINE_RE.match(nxt)
                  and after and (after[0] in "、，,。；;：:）)”」』》" or (
                      len(running) >= 10 and len(after) >= 10 and CJK_RE.match(after[0])
                      and not MARKER_START_RE.match(after)))):
                join = keyword_joined = True
            elif (len(cur) >= 30 and open_end and (not MARKER_START_RE.match(running) or "。" in running)
                  and CJK_RE.match(nxt[0]) and not MARKER_START_RE.match(nxt) and len(nxt) >= 10
                  and cur[-1] not in "：:" and cjk_count(cur) >= 20):
                join = True
        if join:
            nl = spans[i][1]
            edits.append((nl, nl + 1, "", "link_rejoin"))
            running = running + nxt
        else:
            running = nxt
    return edits

"""Recurring slogans and formulas: quoted phrases, numeric formulas, parallel enumerations,
statistical multi-word expressions, plus a small lexicon of well-known slogans.

Slogans that contain 、 or quotes can never be one jieba token, so quoted phrases, numeric
formulas and enumerations are matched on the clean text; only ``mwe`` uses jieba tokens.

Counting (``count``) is per kind: quoted phrases count their *quoted* occurrences;
numeric formulas, multi-word expressions and known slogans count every occurrence of the
string (numeric ones not preceded by another numeral); enumerations count every surface
variant of their items (``比、学、赶、帮、超`` and ``比学赶帮超``). ``count_dedup`` counts a
cluster of near-duplicate documents as one document (its largest per-document count);
``n_clusters`` is the number of such clusters the slogan occurs in, and ``min_documents``
applies to it (known slogans are exempt).

At scale: multi-word expressions are discovered in an even sample of at most
``[mwe] max_sample_chars`` characters (2 million; :func:`mwe_sample`), because discovery
holds every n-gram in memory; every candidate of every kind is then counted in all texts,
in one pass per text (an Aho-Corasick automaton over all candidate strings, ``pyahocorasick``)
instead of one regex scan per candidate and text, a chunk of texts per task on ``workers``
processes (merged in order: the same table for any number of workers).
"""
from __future__ import annotations

import math
import re
import tomllib
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable

import numpy as np
import pandas as pd

from .units import UnitSource, as_units

KINDS = ("quoted", "numeric", "enumeration", "mwe")
COLUMNS = ["slogan", "kind", "known", "count", "n_documents", "n_pages", "count_dedup", "n_clusters",
           "first_year", "last_year", "contexts"]
_KIND_RANK = {"numeric": 0, "enumeration": 1, "quoted": 2, "mwe": 3, "known": 4}
_CJK = "\u4e00-\u9fff"
_QUOTE = re.compile(r"[“「『]([^“”「」『』\n]{1,40}?)[”」』]")
_ENUM_RUN = re.compile(rf"[{_CJK}]{{1,12}}(?:、[{_CJK}]{{1,12}}){{2,9}}")
_EDGE_PUNCT = "，。、；：！？,.;:!?…—－-·"
_STOPWORDS = set("的 了 和 与 及 并 在 是 等 为 对 把 将 要 也 就 都 中 上 下 有 以 于 从 由 被 让 使 "
                 "而 或 之 其 这 那 该 各 每 个 我们 他们 你们 我 他 她 它 一个 一些 进行 通过 着 地 得".split())


@lru_cache(maxsize=1)
def load_resources() -> dict:
    """The parsed ``resources/slogans.toml``."""
    text = resources.files("corpus_tools").joinpath("resources/slogans.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass
class _Cand:
    slogan: str
    kind: str
    known: bool = False
    quoted_only: bool = False
    items: tuple[str, ...] | None = None  # enumeration items

    def required_chars(self) -> set[str]:
        """Characters every match of an enumeration contains (its items' characters): a
        text without one of them cannot match :meth:`pattern`."""
        return set("".join(self.items or ()))

    def pattern(self) -> re.Pattern:
        if self.items:
            # short lists of one-character items must keep their separators (党、政、工 ≠ 党政工作)
            sep = "[、，,]" if len(self.slogan) < 4 and not self.known else "[、，,]?"
            return re.compile(sep.join(map(re.escape, self.items)))
        body = r"\s?".join(map(re.escape, self.slogan))
        if self.quoted_only:
            return re.compile(rf"[“「『]\s?{body}\s?[”」』]")
        if self.kind == "numeric":
            return re.compile(rf"(?<![{_numerals_before()}]){body}")
        return re.compile(body)


_OPEN, _CLOSE = "“「『", "”」』"


def _numerals_before() -> str:
    """The body of the character class that may not precede a numeric formula."""
    return load_resources()["numeric"]["numerals"] + "百千万零〇0-9"


@lru_cache(maxsize=1)
def _numeral_class() -> re.Pattern:
    """One character that may not precede a numeric formula (see :meth:`_Cand.pattern`)."""
    return re.compile(f"[{_numerals_before()}]")


# ----------------------------------------------------------------- grammar helpers
def _numeric_re() -> re.Pattern:
    cfg = load_resources()["numeric"]
    n, c, t = cfg["numerals"], cfg["classifiers"], int(cfg["max_tail"])
    return re.compile(rf"([{n}]{{1,2}})([{c}]?)([{_CJK}]{{1,{t}}})")


def is_numeric_formula(s: str) -> bool:
    """Does ``s`` fit the numeric-formula grammar (三个代表, 四有, 五建五促, 八荣八耻)?"""
    cfg = load_resources()["numeric"]
    nums = cfg["numerals"]
    if re.fullmatch(rf"([{nums}])[{_CJK}]\1[{_CJK}](?:\1[{_CJK}])?", s):
        return True
    m = _numeric_re().fullmatch(s)
    if not m:
        return False
    tail = m.group(3)
    if m.group(2) and all(ch in nums for ch in tail):
        return True  # 三个一, 六个十
    return tail[0] not in nums and tail[0] not in cfg["bad_tail_start"] and tail not in cfg.get("bad_tails", [])


def parse_enumeration(surface: str) -> tuple[str, ...] | None:
    """Items of a parallel enumeration (equal-length items joined by 、), or None.

    Inner items fix the item length; the first and last segments are trimmed to it, so
    ``形成了比、学、赶、帮、超的浓厚`` → ``('比', '学', '赶', '帮', '超')``.
    """
    cfg = load_resources()["enumeration"]
    parts = surface.split("、")
    if not cfg["min_items"] <= len(parts) <= cfg["max_items"]:
        return None
    lengths = {len(p) for p in parts[1:-1]}
    if len(lengths) != 1:
        return None
    n = lengths.pop()
    if n > cfg["max_item_len"] or len(parts[0]) < n or len(parts[-1]) < n:
        return None
    items = (parts[0][-n:], *parts[1:-1], parts[-1][:n])
    if len(set(items)) < len(items):
        return None
    return items


def _normalise_quoted(inner: str) -> str:
    return re.sub(r"\s+", "", inner).strip(_EDGE_PUNCT)


def _entropy(counter: Counter) -> float:
    total = sum(counter.values())
    return -sum(v / total * math.log2(v / total) for v in counter.values()) if total else 0.0


# ----------------------------------------------------------------- discovery
def _discover_quoted(texts: list[str], cands: dict[str, _Cand]) -> None:
    for text in texts:
        for m in _QUOTE.finditer(text):
            inner = _normalise_quoted(m.group(1))
            if "、" in inner:
                items = parse_enumeration(inner)
                if items and "".join(items) == inner.replace("、", ""):
                    _add(cands, _Cand("".join(items), "enumeration", items=items))
                continue
            if not 2 <= len(inner) <= 12 or len(re.findall(rf"[{_CJK}]", inner)) < 2:
                continue
            if is_numeric_formula(inner):
                _add(cands, _Cand(inner, "numeric"))
            else:
                _add(cands, _Cand(inner, "quoted", quoted_only=True))


def _numeric_stats(texts: list[str]) -> tuple[Counter, dict[str, Counter], Counter]:
    """Numeric formula counts over ``texts``: (counts, right-context characters, edge
    weights). An occurrence at a text's end or before a non-CJK character has no right
    character: it is an edge, a context of its own in the entropy, kept as a weight (1, or 2
    for the strong pattern) so that counts from chunks of texts add up exactly."""
    cfg = load_resources()["numeric"]
    nums, cls = cfg["numerals"], cfg["classifiers"]
    head = re.compile(rf"(?<![{nums}百千万零〇0-9期周第初拜])([{nums}]{{1,2}})([{cls}]?)([{_CJK}]{{1,{int(cfg['max_tail'])}}})")
    mixed = re.compile(rf"(?<![{nums}])([{nums}])([{_CJK}])\1([{_CJK}])(?:\1([{_CJK}]))?")
    cjk = re.compile(rf"[{_CJK}]").match
    counts: Counter = Counter()
    right: dict[str, Counter] = defaultdict(Counter)
    edges: Counter = Counter()  # (slogan, weight) -> edge occurrences
    for text in texts:
        for m in head.finditer(text):
            num, c, run = m.groups()
            if "一" in num or (len(num) == 2 and "十" not in num):
                continue  # 一X words are lexical (一系列, 一个新的); 三八 is a date
            for k in range(1, len(run) + 1):
                tail = run[:k]
                if not c and k < 2:
                    continue
                s = num + c + tail
                if not is_numeric_formula(s):
                    break
                end = m.start(3) + k
                counts[s] += 1
                if end < len(text) and cjk(text[end]):
                    right[s][text[end]] += 1
                else:
                    edges[s, 1] += 1
        for m in mixed.finditer(text):
            if m.group(1) != "一":
                counts[m.group(0)] += 2  # strong pattern: one occurrence counts double
                edges[m.group(0), 2] += 1
    return counts, dict(right), edges


def _edge_entropy(right: Counter, n1: int, n2: int) -> float:
    """:func:`_entropy` of ``right`` plus ``n1`` contexts of weight 1 and ``n2`` of weight 2,
    each distinct (an edge is no character: every one is a context of its own)."""
    total = sum(right.values()) + n1 + 2 * n2
    if not total:
        return 0.0
    h = -sum(v / total * math.log2(v / total) for v in right.values())
    for n, w in ((n1, 1), (n2, 2)):
        if n:
            h -= n * (w / total * math.log2(w / total))
    return h


def _numeric_cands(counts: Counter, right: dict[str, Counter], edges: Counter, cands: dict[str, _Cand]) -> None:
    cfg = load_resources()["numeric"]
    empty: Counter = Counter()
    for s, n in counts.items():
        if n >= cfg["min_count"] and _edge_entropy(right.get(s, empty), edges[s, 1], edges[s, 2]) >= cfg["min_right_entropy"]:
            _add(cands, _Cand(s, "numeric"))


def _enumeration_stats(texts: list[str]) -> tuple[Counter, dict[str, tuple[str, ...]]]:
    """Enumeration counts over ``texts`` and the items of each (its last occurrence's)."""
    counts: Counter = Counter()
    found: dict[str, tuple[str, ...]] = {}
    for text in texts:
        for m in _ENUM_RUN.finditer(text):
            items = parse_enumeration(m.group(0))
            if items:
                key = "".join(items)
                counts[key] += 1
                found[key] = items
    return counts, found


def _enumeration_cands(counts: Counter, found: dict[str, tuple[str, ...]], cands: dict[str, _Cand]) -> None:
    for key, n in counts.items():
        if n >= 2:
            _add(cands, _Cand(key, "enumeration", items=found[key]))


def _discover_task(args: tuple[list[str], tuple[str, ...]]) -> dict:
    """Discovery over a chunk of texts: its quoted candidates and its numeric and
    enumeration statistics, to be merged in chunk order (:func:`_discover_all`)."""
    texts, kinds = args
    out: dict = {}
    if "quoted" in kinds or "enumeration" in kinds or "numeric" in kinds:
        quoted: dict[str, _Cand] = {}
        _discover_quoted(texts, quoted)
        out["quoted"] = quoted
    if "numeric" in kinds:
        out["numeric"] = _numeric_stats(texts)
    if "enumeration" in kinds:
        out["enumeration"] = _enumeration_stats(texts)
    return out


def _discovery_task(item: tuple) -> dict:
    """One discovery task: ``("chunk", texts, kinds)`` (:func:`_discover_task`) or
    ``("mwe", sample)``: the multi-word expressions of the sample."""
    if item[0] == "mwe":
        found: dict[str, _Cand] = {}
        _discover_mwe_in(item[1], found)
        return {"mwe": found}
    return _discover_task(item[1:])


def _discover_all(texts: list[str], kinds: tuple[str, ...], cands: dict[str, _Cand], workers: int) -> None:
    """Quoted, numeric and enumeration discovery in chunks of :data:`COUNT_CHUNK` texts on
    ``workers`` processes, merged in order: the candidates of one pass over all texts, for
    any number of workers (counts add; first occurrences keep their order). Multi-word
    expressions (kind ``mwe``) are found in one more task over their sample, handed out
    first (the longest task) and added last."""
    from itertools import chain

    from ..engine import batched, run_tasks

    quoted: list[dict[str, _Cand]] = []
    counts, right, edges = Counter(), defaultdict(Counter), Counter()
    e_counts: Counter = Counter()
    found: dict[str, tuple[str, ...]] = {}
    mwe: dict[str, _Cand] = {}
    first = [("mwe", mwe_sample(texts, int(load_resources()["mwe"]["max_sample_chars"])))] if "mwe" in kinds else []
    chunks = chain(first, (("chunk", chunk, kinds) for chunk in batched(texts, COUNT_CHUNK)))
    for part in run_tasks(_discovery_task, chunks, workers=workers):
        if "mwe" in part:
            mwe = part["mwe"]
            continue
        quoted.append(part.get("quoted", {}))
        if "numeric" in part:
            c, r, e = part["numeric"]
            counts.update(c)
            edges.update(e)
            for s, ctx in r.items():
                right[s].update(ctx)
        if "enumeration" in part:
            c, f = part["enumeration"]
            e_counts.update(c)
            found.update(f)
    for q in quoted:
        for c in q.values():
            _add(cands, c)
    if "numeric" in kinds:
        _numeric_cands(counts, right, edges, cands)
    if "enumeration" in kinds:
        _enumeration_cands(e_counts, found, cands)
    for c in mwe.values():
        _add(cands, c)


_CJK_TOKEN = re.compile(rf"[{_CJK}]+")


def _tokens(text: str) -> list[list[str]]:
    """Tokens of ``text`` (the project's segmenter: union user dictionary, rjieba when
    installed) split into runs of CJK-only tokens."""
    from ..tokenize import segment

    runs, cur = [], []
    cjk = _CJK_TOKEN.fullmatch
    for tok in segment(text):
        if cjk(tok):
            cur.append(tok)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


def mwe_sample(texts: list[str], max_chars: int) -> list[str]:
    """The texts multi-word expressions are discovered in: all of them up to ``max_chars``
    characters in all, else every k-th text (k = ceil(total / max_chars)), spread evenly over
    the corpus. Discovery counts every n-gram of the texts in memory, so it is bounded;
    the candidates found are then counted in every text."""
    total = sum(map(len, texts))
    if total <= max_chars:
        return texts
    return texts[::-(-total // max_chars)]


def _discover_mwe_in(sample: list[str], cands: dict[str, _Cand]) -> None:
    """Multi-word expressions of ``sample``: frequent token n-grams with a high PMI and free
    contexts on both sides, added to ``cands``."""
    cfg = load_resources()["mwe"]
    max_n = int(cfg["max_tokens"])
    token_runs = [_tokens(t) for t in sample]
    grams: Counter = Counter()
    total = 0
    for runs in token_runs:
        for run in runs:
            total += len(run)
            for n in range(1, max_n + 1):
                for i in range(len(run) - n + 1):
                    grams[tuple(run[i:i + n])] += 1
    if not total:
        return

    def pmi(g: tuple[str, ...]) -> float:
        p = grams[g] / total
        return min(math.log2(p / ((grams[g[:k]] / total) * (grams[g[k:]] / total))) for k in range(1, len(g)))

    keep = {}
    for g, n in grams.items():
        chars = sum(map(len, g))
        if (len(g) < 2 or n < cfg["min_count"] or not cfg["min_chars"] <= chars <= cfg["max_chars"]
                or g[0] in _STOPWORDS or g[-1] in _STOPWORDS or len(g[0]) == 1 and len(g[-1]) == 1):
            continue
        if pmi(g) >= cfg["min_pmi"]:
            keep[g] = n
    left, right = defaultdict(Counter), defaultdict(Counter)
    for runs in token_runs:
        for run in runs:
            for n in range(2, max_n + 1):
                for i in range(len(run) - n + 1):
                    g = tuple(run[i:i + n])
                    if g in keep:
                        left[g][run[i - 1] if i else f"#{len(left[g])}"] += 1
                        right[g][run[i + n] if i + n < len(run) else f"#{len(right[g])}"] += 1
    for g in keep:
        if min(_entropy(left[g]), _entropy(right[g])) >= cfg["min_entropy"]:
            _add(cands, _Cand("".join(g), "mwe"))


def _add(cands: dict[str, _Cand], c: _Cand) -> None:
    old = cands.get(c.slogan)
    if old is None:
        cands[c.slogan] = c
    elif _KIND_RANK[c.kind] < _KIND_RANK[old.kind]:
        c.known = old.known
        cands[c.slogan] = c


def _add_known(cands: dict[str, _Cand]) -> None:
    """Every slogan of the known lexicon becomes a candidate flagged ``known`` (one found
    by discovery keeps its kind and is counted everywhere, not only in quotes). They are
    counted with the rest; one that occurs nowhere has no row."""
    for s in load_resources()["known"]["slogans"]:
        if s in cands:
            cands[s].known = True
            cands[s].quoted_only = False
            continue
        items = tuple(s) if s == "比学赶帮超" else None
        kind = "enumeration" if items else "numeric" if is_numeric_formula(s) else "known"
        cands[s] = _Cand(s, kind, known=True, items=items)


class _CharIndex:
    """Which texts contain each character (text numbers in ascending order): counting a
    candidate then only scans the texts that hold its rarest character, not the whole
    corpus (thousands of candidates x every text was the main job's bottleneck at scale)."""

    def __init__(self, texts: list[str]):
        post: dict[str, list[int]] = defaultdict(list)
        for i, text in enumerate(texts):
            for ch in set(text):
                post[ch].append(i)
        self.post = dict(post)
        self.n = len(texts)

    def candidates(self, chars: set[str]) -> list[int] | range:
        """Texts that may contain all of ``chars``, ascending (all texts when ``chars`` is empty)."""
        if not chars:
            return range(self.n)
        return min((self.post.get(ch, []) for ch in chars), key=len)


class _Tally:
    """One candidate's occurrences in corpus order: the text numbers and how many times in
    each (int arrays, one piece per chunk of texts, joined when its row is made; a Counter,
    a set of pages and a list of years per candidate held ~170 bytes a text, ~4 GB for a
    1 GB corpus), and the first contexts from distinct documents."""

    __slots__ = ("pieces", "ctx")

    def __init__(self) -> None:
        self.pieces: list[tuple[np.ndarray, np.ndarray]] = []  # (text numbers, counts)
        self.ctx: list[tuple[str, str]] = []  # (doc_id, snippet)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(text numbers, counts), the pieces joined (empty arrays when it occurs nowhere)."""
        if not self.pieces:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if len(self.pieces) > 1:
            self.pieces = [(np.concatenate([p[0] for p in self.pieces]).astype(np.int64),
                            np.concatenate([p[1] for p in self.pieces]).astype(np.int64))]
        return self.pieces[0]


class _UnitCodes:
    """Integer codes of the units' documents, pages, years and near-duplicate clusters, so a
    tally's text numbers turn into its table row with a few numpy reductions."""

    def __init__(self, units: pd.DataFrame, cmap: dict[str, str]):
        self.doc_ids = units["doc_id"].astype(str).tolist()
        self.doc, docs = pd.factorize(pd.Series(self.doc_ids), sort=False)
        self.cluster = pd.factorize(pd.Series([cmap.get(d, d) for d in docs]), sort=False)[0]  # per document code
        self.page = pd.factorize(pd.Series([str(p) for p in units["page_id"]]), sort=False)[0]
        self.year = pd.to_numeric(units["year"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

    def row(self, t: _Tally) -> dict:
        """count, n_documents, n_pages, count_dedup, n_clusters, first_year, last_year."""
        idx, counts = t.arrays()
        docs, inverse = np.unique(self.doc[idx], return_inverse=True)
        per_doc = np.bincount(inverse, weights=counts).astype(np.int64)
        clusters = self.cluster[docs]
        order = np.argsort(clusters, kind="stable")
        cl = clusters[order]
        starts = np.flatnonzero(np.r_[True, cl[1:] != cl[:-1]])
        best = np.maximum.reduceat(per_doc[order], starts)  # a cluster counts as its largest document
        years = self.year[idx]
        years = years[~np.isnan(years)]
        return {
            "count": int(per_doc.sum()), "n_documents": len(docs), "n_pages": len(np.unique(self.page[idx])),
            "count_dedup": int(best.sum()), "n_clusters": len(starts),
            "first_year": int(years.min()) if len(years) else None,
            "last_year": int(years.max()) if len(years) else None,
        }


def _count_occurrences(texts: list[str], cands: dict[str, _Cand],
                       add: Callable[[str, int, list[tuple[int, int]]], None]) -> None:
    """Call ``add(slogan, text number, spans)`` for every text where a candidate occurs, with
    the spans of ``finditer`` of its pattern, texts in corpus order for each candidate.

    Candidates that are one string (all but enumerations) are found in one pass over each
    text with an Aho-Corasick automaton over all of them (:func:`_count_with_automaton`);
    enumerations are searched one by one in the texts that hold their rarest character
    (:class:`_CharIndex`)."""
    strings = {s: c for s, c in cands.items() if not c.items}
    if strings:
        _count_with_automaton(texts, strings, add)
    rest = {s: c for s, c in cands.items() if c.items}
    if rest:
        index = _CharIndex(texts)
        for s in sorted(rest):
            pat = rest[s].pattern()
            for i in index.candidates(rest[s].required_chars()):
                hits = [m.span() for m in pat.finditer(texts[i])]
                if hits:
                    add(s, i, hits)


_WS_RUN = re.compile(r"\s+")


def _squeeze(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` with every lone whitespace character deleted and every longer run replaced by
    one NUL, so that a slogan's plain string occurs in it exactly where ``a\\s?b\\s?c`` matches
    the text; plus what maps positions back (:func:`_unsqueeze`): the squeezed position after
    each run and the characters removed up to there."""
    parts: list[str] = []
    after: list[int] = []
    removed: list[int] = []
    last = q = cum = 0
    for m in _WS_RUN.finditer(text):
        a, b = m.span()
        parts.append(text[last:a])
        q += a - last
        if b - a == 1:
            cum += 1
        else:
            parts.append("\x00")
            q += 1
            cum += b - a - 1
        after.append(q)
        removed.append(cum)
        last = b
    if not after:
        return text, after, removed
    parts.append(text[last:])
    return "".join(parts), after, removed


def _unsqueeze(q: int, after: list[int], removed: list[int]) -> int:
    """The position in the text of the character at squeezed position ``q``."""
    k = bisect_right(after, q)
    return q + (removed[k - 1] if k else 0)


def _count_with_automaton(texts: list[str], cands: dict[str, _Cand],
                          add: Callable[[str, int, list[tuple[int, int]]], None]) -> None:
    """:func:`_count_occurrences` for one-string candidates. The automaton holds each
    candidate's string, and for a quoted one the string between each opening and closing
    quote (9 keys: its pattern allows any of “「『 … ”」』); every occurrence in the squeezed
    text is mapped back to the text, a numeric one is dropped when a numeral precedes it,
    and then, as ``finditer`` does, the leftmost ones that do not overlap an earlier match
    are kept (all keys of a candidate have one length, so they arrive in start order)."""
    import ahocorasick

    keys = sorted(cands)
    auto = ahocorasick.Automaton()
    for k, s in enumerate(keys):
        if cands[s].quoted_only:
            for o in _OPEN:
                for c in _CLOSE:
                    auto.add_word(f"{o}{s}{c}", (k, len(s) + 2))
        else:
            auto.add_word(s, (k, len(s)))
    auto.make_automaton()
    numeric = [cands[s].kind == "numeric" and not cands[s].quoted_only for s in keys]
    before = _numeral_class()
    for i, text in enumerate(texts):
        sq, after, removed = _squeeze(text)
        found: dict[int, list[tuple[int, int]]] = {}
        for end, (k, length) in auto.iter(sq):
            if after:
                a, b = _unsqueeze(end - length + 1, after, removed), _unsqueeze(end, after, removed) + 1
            else:
                a, b = end - length + 1, end + 1
            if numeric[k] and a > 0 and before.match(text, a - 1):  # (?<![numerals])
                continue
            hits = found.get(k)
            if hits is None:
                found[k] = [(a, b)]
            elif a >= hits[-1][1]:
                hits.append((a, b))
        for k in sorted(found):
            add(keys[k], i, found[k])


COUNT_CHUNK = 2000  # texts per counting task


def _count_task(args: tuple[list[str], list[str], dict[str, _Cand], int]) -> dict:
    """Occurrences of every candidate in a chunk of texts: ``{slogan: (text numbers within
    the chunk, counts, [(text number, first span)] of its first ``n_contexts`` distinct
    documents)}``, texts in order (what :func:`_count_occurrences` reports, packed)."""
    texts, doc_ids, cands, n_contexts = args
    found: dict[str, tuple[list[int], list[int], list[tuple[int, tuple[int, int]]], set[str]]] = {}

    def add(slogan: str, i: int, hits: list[tuple[int, int]]) -> None:
        got = found.get(slogan)
        if got is None:
            got = found[slogan] = ([], [], [], set())
        got[0].append(i)
        got[1].append(len(hits))
        if len(got[2]) < n_contexts and doc_ids[i] not in got[3]:  # enough: a document also in
            # the chunk before is in the tally's contexts already, so the rest fill them
            got[2].append((i, hits[0]))
            got[3].add(doc_ids[i])

    _count_occurrences(texts, cands, add)
    return {s: (np.array(v[0], np.int32), np.array(v[1], np.int32), v[2]) for s, v in found.items()}


def _count_all(texts: list[str], doc_ids: list[str], cands: dict[str, _Cand], n_contexts: int,
               workers: int) -> dict[str, _Tally]:
    """Every candidate's :class:`_Tally` over ``texts``, counted in chunks of
    :data:`COUNT_CHUNK` texts on ``workers`` processes and merged in order: the same tallies
    for any number of workers."""
    from ..engine import batched, run_tasks

    tallies = {s: _Tally() for s in cands}
    chunks = ((t, d, cands, n_contexts) for t, d in zip(batched(texts, COUNT_CHUNK), batched(doc_ids, COUNT_CHUNK)))
    for k, part in enumerate(run_tasks(_count_task, chunks, workers=workers)):
        base = k * COUNT_CHUNK
        for s, (idx, counts, ctx) in part.items():
            t = tallies[s]
            t.pieces.append((idx + base, counts))
            for i, span in ctx:
                d = doc_ids[base + i]
                if len(t.ctx) < n_contexts and all(d != x for x, _ in t.ctx):
                    t.ctx.append((d, _snippet(texts[base + i], *span)))
    return tallies


# ----------------------------------------------------------------- public API
def _cluster_map(units: pd.DataFrame, clusters: pd.DataFrame | None) -> dict[str, str]:
    if clusters is None:
        from ..export.dedup import near_duplicate_clusters

        docs = units.groupby("doc_id", sort=True)["text"].apply(lambda t: "\n".join(t)).reset_index()
        clusters = near_duplicate_clusters(docs)
    return dict(zip(clusters["doc_id"].astype(str), clusters["cluster_id"].astype(str)))


def _snippet(text: str, start: int, end: int, width: int = 10) -> str:
    s = text[max(0, start - width):end + width].replace("\n", " ")
    return ("…" if start > width else "") + s + ("…" if end + width < len(text) else "")


def find_slogans(data: UnitSource, unit: str = "document", top: int | None = None, min_documents: int = 2,
                 clusters: pd.DataFrame | None = None, kinds: tuple[str, ...] = KINDS,
                 known: bool = True, n_contexts: int = 3, workers: int = 1) -> pd.DataFrame:
    """Find recurring slogans and formulas (see the module doc for the rules).

    Returns one row per slogan with ``COLUMNS``, best first (n_clusters, count_dedup, count,
    then the slogan). ``top`` keeps every known slogan found plus the best others up to
    ``top`` rows (:func:`select_top`: the same rows as cutting the ``top=None`` table, so one
    full table serves several ``top`` values). ``clusters`` (doc_id, cluster_id) defaults to
    :func:`corpus_tools.export.dedup.near_duplicate_clusters` of the documents. ``workers``
    processes count the candidates, a chunk of texts each (same table for any number).
    """
    units = as_units(data, unit)
    texts = [str(t or "") for t in units["text"]]
    cands: dict[str, _Cand] = {}
    _discover_all(texts, kinds, cands, workers)  # multi-word expressions too
    cands = {k: c for k, c in cands.items() if c.kind in kinds}
    if known:
        _add_known(cands)
    codes = _UnitCodes(units, _cluster_map(units, clusters))
    tallies = _count_all(texts, codes.doc_ids, cands, n_contexts, workers)
    rows = []
    for s in sorted(cands):
        c, t = cands[s], tallies.pop(s)
        if not t.pieces:
            continue
        row = codes.row(t)
        if row["n_clusters"] < min_documents and not c.known:
            continue
        rows.append({"slogan": s, "kind": c.kind, "known": c.known, **row,
                     "contexts": " | ".join(snippet for _, snippet in t.ctx)})
    out = pd.DataFrame(rows, columns=COLUMNS)
    out = out.sort_values(["n_clusters", "count_dedup", "count", "slogan"], ascending=[False, False, False, True])
    out["first_year"] = out["first_year"].astype("Int64")
    out["last_year"] = out["last_year"].astype("Int64")
    out = out.reset_index(drop=True)
    return out if top is None else select_top(out, top)


def select_top(ranked: pd.DataFrame, top: int) -> pd.DataFrame:
    """The rows of a full :func:`find_slogans` table that ``top=`` keeps: every known
    slogan, then the best of each kind in turn, in ranked order."""
    return ranked.loc[_select_top(ranked, top)].reset_index(drop=True)


def _select_top(ranked: pd.DataFrame, top: int) -> list:
    """Index labels of the rows to keep: every known slogan, then the best of each kind in
    turn (numeric, enumeration, quoted, mwe) until ``top`` rows, in ``ranked`` order."""
    chosen = list(ranked.index[ranked["known"]])
    queues = {k: [i for i in ranked.index[(ranked["kind"] == k) & ~ranked["known"]]] for k in KINDS}
    order = sorted(queues, key=lambda k: _KIND_RANK[k])
    while len(chosen) < top and any(queues.values()):
        for k in order:
            if queues[k] and len(chosen) < top:
                chosen.append(queues[k].pop(0))
    keep = set(chosen)
    return [i for i in ranked.index if i in keep]


def slogan_timeline(data: UnitSource, slogans: list[str] | pd.DataFrame | None = None, by: str = "year",
                    unit: str = "document", workers: int = 1) -> pd.DataFrame:
    """Occurrences of each slogan per ``by`` value (default: year): columns
    ``year, slogan, count, per_10k_chars`` (every year × slogan pair, zeros included),
    counted on ``workers`` processes (the same table for any number).

    ``slogans`` may be a list of strings, a :func:`find_slogans` frame, or None (the known
    slogans plus the 20 best found in ``data``).
    """
    units = as_units(data, unit)
    units = units[units[by].notna()] if by in units.columns else units.iloc[0:0]
    if slogans is None:
        found = find_slogans(units, top=20, kinds=("quoted", "numeric", "enumeration"))
        slogans = found
    if isinstance(slogans, pd.DataFrame):
        cands = [_Cand(r.slogan, r.kind, quoted_only=r.kind == "quoted" and not r.known,
                       items=tuple(r.slogan) if r.kind == "enumeration" and len(r.slogan) <= 8 else None)
                 for r in slogans.itertuples()]
    else:
        cands = [_Cand(s, "numeric" if is_numeric_formula(s) else "known") for s in slogans]
    texts = [str(t or "") for t in units["text"]]
    group, keys = pd.factorize(units[by], sort=True)
    n_chars = np.bincount(group, weights=[len(t) for t in texts], minlength=len(keys))
    by_slogan = {c.slogan: c for c in cands}
    # what find_slogans counts (one pass per text, the spans of finditer), without contexts
    tallies = _count_all(texts, [""] * len(texts), by_slogan, n_contexts=0, workers=workers)
    counts = {}
    for s, t in tallies.items():
        idx, n = t.arrays()
        counts[s] = np.bincount(group[idx], weights=n, minlength=len(keys)).astype(np.int64)
    rows = []
    for g, key in enumerate(keys):
        for s in sorted(by_slogan):
            n, chars = int(counts[s][g]), int(n_chars[g])
            rows.append({by: int(key) if by == "year" else key, "slogan": s, "count": n,
                         "per_10k_chars": round(n * 10000 / chars, 4) if chars else 0.0})
    return pd.DataFrame(rows, columns=[by, "slogan", "count", "per_10k_chars"])

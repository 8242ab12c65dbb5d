"""Text whose every edit is accounted for against the raw page.

A :class:`TrackedText` is a list of segments covering the raw text end to end. A segment
either keeps its raw characters verbatim (``rule is None``) or replaces them (``rule`` names
the cleaning rule; ``text == ""`` for a removal). Concatenating the segments' ``text`` gives
the current clean text; concatenating their raw slices gives the raw text back. That is the
accounting invariant the tests check: nothing is lost silently.

A same-length substitution of many scattered characters (OpenCC conversion) is applied with
:meth:`TrackedText.substitute` instead: kept segments then read :attr:`TrackedText.src`, the
raw text with those characters substituted, and :meth:`TrackedText.log` reports them.

Stages express edits as ``(start, end, replacement, rule)`` in *current* text coordinates
and apply a whole batch at once with :meth:`TrackedText.edit`.
"""
from __future__ import annotations

import bisect
from itertools import accumulate
from typing import Iterable, NamedTuple


class Seg:
    """A run of the raw page: kept verbatim (``rule is None``: its text is read from the raw
    string on demand, never copied) or replaced by ``text`` under ``rule``."""

    __slots__ = ("raw_start", "raw_end", "_text", "rule", "kind", "_raw", "length")

    def __init__(self, raw_start: int, raw_end: int, text: str | None, rule: str | None, kind: str = "kept",
                 raw: str | None = None):
        self.raw_start, self.raw_end, self.rule, self.kind = raw_start, raw_end, rule, kind
        self._text, self._raw = text, raw
        self.length = len(text) if text is not None else raw_end - raw_start  # in the current text

    @property
    def text(self) -> str:
        return self._text if self._text is not None else self._raw[self.raw_start:self.raw_end]

    def piece(self, a: int, b: int) -> "Seg":
        """The kept sub-run [a, b) of a kept segment (no copy)."""
        return Seg(self.raw_start + a, self.raw_start + b, None, None, raw=self._raw)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Seg({self.raw_start}, {self.raw_end}, {self.text[:20]!r}, {self.rule!r}, {self.kind!r})"


def _kind(kind: str, replacement: str) -> str:
    """An edit's segment kind: as given, else ``removed`` for an empty replacement, else ``repair``."""
    return kind or ("removed" if replacement == "" else "repair")


class Edit(NamedTuple):
    start: int
    end: int
    replacement: str
    rule: str
    kind: str = ""  # "" = derive: removed if replacement == "" else repair


class TrackedText:
    """Raw text plus an ordered, gap-free list of kept/edited segments."""

    def __init__(self, raw: str):
        self.raw = raw
        self.src = raw  # what kept segments read: the raw text, with substitutions applied
        self.segs: list[Seg] = [Seg(0, len(raw), None, None, raw=raw)] if raw else []
        self._text: str | None = raw
        self._starts: list[int] | None = None
        self._subs: list[tuple[int, int]] = []  # raw spans of substitutions in kept text (sorted)
        self._sub_rule: tuple[str, str] = ("", "")  # (rule, kind) they are logged under

    # ------------------------------------------------------------------ views
    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join([s.text for s in self.segs])
        return self._text

    def _cur_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = list(accumulate([s.length for s in self.segs], initial=0))[:-1]
        return self._starts

    def to_raw(self, pos: int, side: str = "start") -> int:
        """Map a position in the current text to a raw offset.

        Inside a kept segment the mapping is exact; inside an edited one it snaps to the
        segment's raw start (``side="start"``) or raw end (``side="end"``).
        """
        if not self.segs:
            return 0
        starts = self._cur_starts()
        if pos >= len(self.text):
            return self.segs[-1].raw_end if side == "end" or pos > 0 else 0
        # last segment whose start <= pos and that has text covering pos
        i = bisect.bisect_right(starts, pos) - 1
        while i < len(self.segs) - 1 and starts[i] + self.segs[i].length <= pos:
            i += 1
        seg, off = self.segs[i], pos - starts[i]
        if seg.rule is None:
            return seg.raw_start + off
        return seg.raw_start if side == "start" else seg.raw_end

    def log(self) -> list[Seg]:
        """All edited segments (removals, repairs, conversions) in raw order, and the parts of
        substitutions (:meth:`substitute`) still in kept text, as segments of their own."""
        if not self._subs:
            return [s for s in self.segs if s.rule is not None]
        subs, raw, src = self._subs, self.raw, self.src
        rule, kind = self._sub_rule
        out: list[Seg] = []
        k = 0
        for s in self.segs:
            if s.rule is not None:
                out.append(s)
                continue
            while k < len(subs) and subs[k][1] <= s.raw_start:
                k += 1
            j = k
            while j < len(subs) and subs[j][0] < s.raw_end:
                a, b = max(subs[j][0], s.raw_start), min(subs[j][1], s.raw_end)
                while a < b and raw[a] == src[a]:  # a later edit cut the span: trim what it left unchanged
                    a += 1
                while b > a and raw[b - 1] == src[b - 1]:
                    b -= 1
                if a < b:
                    out.append(Seg(a, b, src[a:b], rule, kind))
                j += 1
        return out

    # ------------------------------------------------------------------ substituting
    def substitute(self, new: str, runs: list[tuple[int, int]], rule: str, kind: str) -> None:
        """Replace the current text by ``new``, of the same length, which differs from it only
        inside ``runs`` (sorted spans in current coordinates, each inside one segment).

        Nothing is split: characters in kept segments are changed in :attr:`src`, the string
        kept segments read (a traditional page converted by OpenCC would otherwise split into
        thousands of segments, which every later edit pays for), and :meth:`log` reports the
        changes still in kept text as ``(rule, kind)`` segments. An edited segment with a
        change gets ``new``'s text, ``rule`` joined to its rule and ``kind``, as an edit over
        it would. Later edits and offsets work as after any edit."""
        text = self.text
        if len(new) != len(text):
            raise ValueError("a substitution keeps the length of the text")
        if not runs:
            return
        if self._subs and self._sub_rule != (rule, kind):
            raise ValueError(f"one substitution rule per text ({self._sub_rule[0]!r} already applied)")
        segs, starts, src = self.segs, self._cur_starts(), self.src
        pieces: list[str] = []
        pos = 0  # in src
        subs: list[tuple[int, int]] = []
        for a, b in runs:
            j = bisect.bisect_right(starts, a) - 1
            seg = segs[j]
            off = a - starts[j]
            if a >= b or off + (b - a) > seg.length:
                raise ValueError(f"empty substitution or one across segments {a, b}")
            if seg.rule is not None:
                c = starts[j]
                names = seg.rule.split("+")
                rules = seg.rule if rule in names else f"{seg.rule}+{rule}"
                segs[j] = Seg(seg.raw_start, seg.raw_end, new[c:c + seg.length], rules, kind)
                continue
            r = seg.raw_start + off
            pieces.append(src[pos:r])
            pieces.append(new[a:b])
            pos = r + (b - a)
            subs.append((r, pos))
        if subs:
            pieces.append(src[pos:])
            self.src = src = "".join(pieces)
            for seg in segs:
                if seg.rule is None:
                    seg._raw = src
            merged: list[tuple[int, int]] = []
            for a, b in sorted(self._subs + subs):  # a second substitution may touch the first's spans
                if merged and a <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
                else:
                    merged.append((a, b))
            self._subs = merged
            self._sub_rule = (rule, kind)
        self._text = new

    # ------------------------------------------------------------------ editing
    def edit(self, edits: Iterable[Edit | tuple]) -> None:
        """Apply non-overlapping edits ``(start, end, replacement, rule[, kind])`` given in
        current-text coordinates (``start < end``; there are no pure insertions).

        An edit inside one kept segment splits it exactly. An edit that touches
        already-edited segments absorbs them whole (their text outside the edit is kept in
        the replacement) and the rule names are joined with ``+``.
        """
        todo = sorted(edits)  # plain tuples, by (start, end); equal spans overlap (an error)
        if not todo:
            return
        prev_end = 0
        for e in todo:
            if e[0] >= e[1] or e[0] < prev_end:
                raise ValueError(f"empty, inverted or overlapping edit {e[:2]}")
            prev_end = e[1]
        out = self._split_kept(todo)
        if out is None:
            out = self._edit_general([Edit(*e) for e in todo])
        # splits only ever put a kept piece next to an edited segment, so kept runs stay
        # maximal without a merge pass (check() asserts it)
        self.segs = out
        # the new text is the old one with the replacements spliced in (every rewrite keeps
        # the text outside the edit as it was): O(edits) slices instead of a join of all segments
        old, parts, pos = self.text, [], 0
        for e in todo:
            parts.append(old[pos:e[0]])
            parts.append(e[2])
            pos = e[1]
        parts.append(old[pos:])
        self._text = "".join(parts)
        self._starts = None

    def _split_kept(self, todo: list[tuple]) -> list[Seg] | None:
        """The common case, fast: every edit lies inside one kept segment, so it only splits
        that segment. None when some edit touches an edited segment (general path)."""
        segs = self.segs
        starts = self._cur_starts()
        raw = self.src
        bisect_right = bisect.bisect_right
        out: list[Seg] = []
        append = out.append
        i = 0  # next segment not yet copied
        cur: Seg | None = None  # the kept segment being split
        c_start = c_off = c_raw = 0
        for e in todo:  # (kept pieces built inline: thousands of edits on a traditional page)
            start, end, repl = e[0], e[1], e[2]
            j = bisect_right(starts, start) - 1
            seg = segs[j]
            if seg.rule is not None or end > starts[j] + seg.length:
                return None
            if seg is not cur:
                if cur is not None and c_off < cur.length:
                    append(Seg(c_raw + c_off, cur.raw_end, None, None, raw=raw))
                out.extend(segs[i:j])
                i = j + 1
                cur, c_start, c_off, c_raw = seg, starts[j], 0, seg.raw_start
            a, b = start - c_start, end - c_start
            if a > c_off:
                append(Seg(c_raw + c_off, c_raw + a, None, None, raw=raw))
            append(Seg(c_raw + a, c_raw + b, repl, e[3], _kind(e[4] if len(e) > 4 else "", repl)))
            c_off = b
        if cur is not None and c_off < cur.length:
            append(Seg(c_raw + c_off, cur.raw_end, None, None, raw=raw))
        out.extend(segs[i:])
        return out

    def _edit_general(self, todo: list[Edit]) -> list[Seg]:
        segs = self.segs
        starts = self._cur_starts()
        ends = starts[1:] + [len(self.text)]
        out: list[Seg] = []
        i = 0  # next untouched original segment
        pending: tuple[int, Seg] | None = None  # a split-off tail, in front of segs[i]
        for e in todo:
            group: list[Seg] = []
            if pending is not None:
                p_start, p_seg = pending
                if p_start + p_seg.length <= e.start:
                    out.append(p_seg)
                    pending = None
                else:
                    group, g_start = [p_seg], p_start
                    pending = None
            if not group:
                # copy untouched segments in bulk (C speed), then collect the overlapped ones
                j = bisect.bisect_right(ends, e.start, lo=i)
                out.extend(segs[i:j])
                i = j
                g_start = starts[i] if i < len(segs) else e.start
            k = bisect.bisect_left(starts, e.end, lo=i)
            group.extend(segs[i:k])
            i = k
            if not group:
                continue
            new = self._rewrite(group, g_start, e)
            # the kept tail after e.end (at most one segment) goes back in front
            mid = max(n for n, seg in enumerate(new) if seg.rule is not None)
            tail = new[mid + 1:]
            g_end = g_start + sum(seg.length for seg in group)
            if tail:
                out.extend(new[:mid + 1])
                pending = (e.end, tail[0])
            elif g_end > e.end:
                # the edit absorbed an edited segment reaching past e.end: put it back with a
                # virtual start that keeps its end aligned, so later edits in it still apply
                out.extend(new[:mid])
                pending = (g_end - new[mid].length, new[mid])
            else:
                out.extend(new)
        if pending is not None:
            out.append(pending[1])
        out.extend(segs[i:])
        return out

    @staticmethod
    def _rewrite(group: list[Seg], g_start: int, e: Edit) -> list[Seg]:
        """Replace [e.start, e.end) inside the contiguous segments ``group``."""
        kind = _kind(e.kind, e.replacement)
        if len(group) == 1 and group[0].rule is None:
            seg = group[0]
            a, b = e.start - g_start, e.end - g_start
            res = []
            if a > 0:
                res.append(seg.piece(0, a))
            res.append(Seg(seg.raw_start + a, seg.raw_start + b, e.replacement, e.rule, kind))
            if b < seg.length:
                res.append(seg.piece(b, seg.length))
            return res
        if e.replacement == "":
            split = TrackedText._remove_around(group, g_start, e)
            if split is not None:
                return split
        # general case: split kept edges exactly, absorb edited segments whole
        res: list[Seg] = []
        pos = g_start
        head: list[Seg] = []
        tail: list[Seg] = []
        mid_raw_start = mid_raw_end = None
        prefix = suffix = ""
        rules: list[str] = []
        for seg in group:
            s_start, s_end = pos, pos + seg.length
            pos = s_end
            a = max(e.start, s_start) - s_start
            b = min(e.end, s_end) - s_start
            if seg.rule is None:
                if s_end <= e.start and s_start < e.start:
                    head.append(seg)
                    continue
                if s_start >= e.end and e.end > e.start:
                    tail.append(seg)
                    continue
                if a > 0:
                    head.append(seg.piece(0, a))
                if b < seg.length:
                    tail.append(seg.piece(b, seg.length))
                lo, hi = seg.raw_start + a, seg.raw_start + b
            else:
                if s_start < e.start:
                    prefix += seg.text[:a]
                if s_end > e.end:
                    suffix += seg.text[b:]
                lo, hi = seg.raw_start, seg.raw_end
                rules.append(seg.rule)
            mid_raw_start = lo if mid_raw_start is None else min(mid_raw_start, lo)
            mid_raw_end = hi if mid_raw_end is None else max(mid_raw_end, hi)
        rules.append(e.rule)
        names: list[str] = []
        for r in rules:
            for part in r.split("+"):
                if part not in names:
                    names.append(part)
        text = prefix + e.replacement + suffix
        res.extend(head)
        res.append(Seg(mid_raw_start, mid_raw_end, text, "+".join(names),
                       "removed" if text == "" else (e.kind or "repair")))
        res.extend(tail)
        return res

    @staticmethod
    def _remove_around(group: list[Seg], g_start: int, e: Edit) -> list[Seg] | None:
        """A removal over earlier edits that lie wholly inside it: remove piece by piece so
        earlier removals keep their own rule names (a breadcrumb inside a removed preamble
        stays a breadcrumb). None when an edited segment straddles the edit's edges."""
        res: list[Seg] = []
        pos = g_start
        for seg in group:
            s_start, s_end = pos, pos + seg.length
            pos = s_end
            if seg.rule is not None:
                if s_start < e.start or s_end > e.end:
                    return None
                if seg.text:
                    res.append(Seg(seg.raw_start, seg.raw_end, "", f"{seg.rule}+{e.rule}", e.kind or "removed"))
                else:
                    res.append(seg)
                continue
            a = max(e.start, s_start) - s_start
            b = min(e.end, s_end) - s_start
            if a > 0:
                res.append(seg.piece(0, a))
            if b > a:
                res.append(Seg(seg.raw_start + a, seg.raw_start + b, "", e.rule, e.kind or "removed"))
            if b < seg.length:
                res.append(seg.piece(b, seg.length))
        return res

    # ------------------------------------------------------------------ checks
    def check(self) -> None:
        """Assert the accounting invariant (used by tests and in debug runs)."""
        pos = 0
        prev_kept = False
        for s in self.segs:
            assert s.raw_start == pos, (s, pos)
            kept = s.rule is None
            assert not (kept and (prev_kept or s.raw_start == s.raw_end)), ("kept runs not maximal", s)
            prev_kept = kept
            if s.rule is None:
                assert self.src[s.raw_start:s.raw_end] == s.text, s
            pos = s.raw_end
        assert pos == len(self.raw), (pos, len(self.raw))


def span_to_raw(tt: TrackedText, a: int, b: int) -> tuple[int, int]:
    """Raw offsets of the current-text span [a, b)."""
    if b <= a:
        r = tt.to_raw(a)
        return r, r
    return tt.to_raw(a, "start"), _raw_after(tt, b - 1)


def _raw_after(tt: TrackedText, pos: int) -> int:
    """Raw offset just after the character at current position ``pos``."""
    starts = tt._cur_starts()
    i = bisect.bisect_right(starts, pos) - 1
    while i < len(tt.segs) - 1 and starts[i] + tt.segs[i].length <= pos:
        i += 1
    seg = tt.segs[i]
    if seg.rule is None:
        return seg.raw_start + (pos - starts[i]) + 1
    return seg.raw_end


def reconstruct_raw(clean: str, edits: list[dict]) -> str:
    """Rebuild the raw page from its clean text and its edit log (rows of removed.parquet:
    raw_start, raw_end, text, replacement), in raw order. Raises ValueError if they disagree."""
    out, pos, cpos = [], 0, 0
    for e in sorted(edits, key=lambda r: (r["raw_start"], r["raw_end"])):
        gap = e["raw_start"] - pos
        if gap < 0:
            raise ValueError(f"overlapping edits at raw offset {e['raw_start']}")
        out.append(clean[cpos:cpos + gap])
        cpos += gap
        repl = e["replacement"] or ""
        if clean[cpos:cpos + len(repl)] != repl:
            raise ValueError(f"replacement mismatch at raw offset {e['raw_start']}")
        cpos += len(repl)
        out.append(e["text"])
        pos = e["raw_end"]
    out.append(clean[cpos:])
    return "".join(out)

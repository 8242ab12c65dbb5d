"""A self-contained HTML report of a corpus directory.

>>> from corpus_tools.report import build_report
>>> build_report("build")                   # doctest: +SKIP
PosixPath('build/report.html')

One HTML file: inline CSS, every figure a base64 PNG ``data:`` URI, no JavaScript and no
network access needed to view it (a Content-Security-Policy forbids both). Sections:

1. the corpus at a glance (pages, documents, characters, scripts, encodings, errors) and what
   cleaning removed or repaired, by rule (``removed.parquet``: kind, reason, spans, characters);
2. documents per year and per genre (genre and organisation type from
   :mod:`corpus_tools.analysis.stats`);
3. numbered sections: depth and the roles of top-level sections;
4. theme frequencies as a heatmap theme × year — or × genre when years are sparse;
5. a small topic model (top words per topic, c_v / c_npmi coherence);
6. the top slogans with counts, and their timeline;
7. near-duplicate clusters;
8. every page with its status.

Each section is built independently: if an analysis module is missing or fails, that section
says "not available: <reason>" and the rest of the report still renders. All scraped text
(titles, sources, errors, slogans, contexts) is HTML-escaped.
"""
from __future__ import annotations

import base64
import html
import io
import logging
import math
import re
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from . import __version__
from .store import Corpus, atomic_write_text, load_corpus

__all__ = ["build_report", "render_report", "SECTION_TITLES"]

log = logging.getLogger(__name__)

SECTION_TITLES = {
    "glance": "The corpus at a glance",
    "cleaning": "What cleaning removed",
    "documents": "Documents per year and genre",
    "sections": "Section structure",
    "themes": "Theme frequencies",
    "topics": "Topic model",
    "slogans": "Slogans",
    "duplicates": "Near-duplicate clusters",
    "pages": "Pages",
}

FONT_STACK = ('system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", '
              '"PingFang SC", "Microsoft YaHei", "WenQuanYi Zen Hei", sans-serif')

CSS = """
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --accent:#b42318; --bg:#fcfcfd; }
* { box-sizing: border-box; }
body { font-family: FONT_STACK;
       color: var(--fg); background: var(--bg); margin: 0; line-height: 1.5; font-size: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; }
header.top { border-bottom: 3px solid var(--accent); margin-bottom: 12px; }
h1 { font-size: 26px; margin: 8px 0 2px; }
h2 { font-size: 20px; margin: 34px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub, .note, figcaption { color: var(--muted); font-size: 13px; }
nav.toc { font-size: 13px; margin: 8px 0 4px; }
nav.toc a { margin-right: 14px; color: var(--accent); text-decoration: none; white-space: nowrap; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0 14px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 130px; }
.card .v { font-size: 22px; font-weight: 600; }
.card .k { color: var(--muted); font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 14px 22px; align-items: start; }
table { border-collapse: collapse; margin: 6px 0 12px; background: #fff; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.wrap { max-width: 460px; min-width: 120px; overflow-wrap: anywhere; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); }
.scroll table { margin: 0; }
figure { margin: 8px 0 14px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); background: #fff; }
.na { color: #7a2e0e; background: #fff6ed; border: 1px solid #f9dbaf; padding: 6px 10px; border-radius: 6px; }
.st-ok { color: #067647; font-weight: 600; } .st-empty { color: #b54708; font-weight: 600; }
.st-error { color: #b42318; font-weight: 600; } .st-other { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
""".replace("FONT_STACK", FONT_STACK)

# no scripts, no network: images only from data: URIs, styles only inline
CSP = ("default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'")


# --------------------------------------------------------------------------- html helpers

def esc(value: Any) -> str:
    """HTML-escape anything (None / NaN / <NA> → empty)."""
    if _missing(value):
        return ""
    return html.escape(str(value), quote=True)


def _missing(value: Any) -> bool:
    """None / NaN / <NA> (and not a list-like, for which isna is ambiguous)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


_PLAIN = {"year", "first_year", "last_year", "year_min", "year_max", "topic", "level", "depth", "style"}


def _fmt(value: Any, fmt: str | None = None) -> str:
    if _missing(value):
        return ""
    if fmt:
        try:
            return esc(format(value, fmt))
        except (TypeError, ValueError):
            return esc(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return esc(f"{int(value):,}")
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return esc(f"{value:,}")
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        try:
            return _fmt(value.item(), fmt)
        except (TypeError, ValueError):
            pass
    return esc(value)


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or (
        hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iuf")


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"


def html_table(df: pd.DataFrame, columns: Sequence[str] | None = None, formats: dict[str, str] | None = None,
               wrap: Sequence[str] = (), classes: dict[str, Callable[[Any], str]] | None = None,
               scroll: bool = False, max_rows: int | None = None) -> str:
    """An HTML table of ``df`` with every header and cell escaped."""
    columns = [c for c in (columns or list(df.columns)) if c in df.columns]
    formats = formats or {}
    classes = classes or {}
    shown = df if max_rows is None else df.head(max_rows)
    out = ["<table><thead><tr>", *(f"<th>{esc(c)}</th>" for c in columns), "</tr></thead><tbody>"]
    for row in shown[columns].itertuples(index=False, name=None):
        out.append("<tr>")
        for c, v in zip(columns, row):
            cls = []
            if c in classes:
                cls.append(classes[c](v))
            if c in wrap:
                cls.append("wrap")
            elif _is_num(v):
                cls.append("n")
            attr = f' class="{" ".join(cls)}"' if cls else ""
            out.append(f"<td{attr}>{_fmt(v, formats.get(c, 'd' if c in _PLAIN and _is_int(v) else None))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    text = "".join(out)
    if max_rows is not None and len(df) > max_rows:
        text += f'<p class="note">showing {max_rows:,} of {len(df):,} rows</p>'
    return f'<div class="scroll">{text}</div>' if scroll else text


def _cards(items: Sequence[tuple[str, Any]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{_fmt(v)}</div><div class="k">{esc(k)}</div></div>' for k, v in items
    ) + "</div>"


def _na(reason: str) -> str:
    return f'<p class="na">not available: {esc(reason)}</p>'


def _note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def fig_to_data_uri(fig: Any, dpi: int = 110) -> str:
    """Render a matplotlib figure to a ``data:image/png;base64,…`` URI and close it."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    finally:
        try:
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:  # pragma: no cover
            pass
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(fig: Any, alt: str, caption: str | None = None) -> str:
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{fig_to_data_uri(fig)}" alt="{esc(alt)}">{cap}</figure>'


def _pyplot():
    """pyplot with a CJK font registered (corpus_tools.plotting), without switching backends."""
    try:
        from .plotting import setup_cjk_font

        setup_cjk_font()
    except Exception as exc:  # pragma: no cover - plotting module missing/broken
        log.warning("CJK font setup failed (%s); Chinese labels may not render", exc)
    import matplotlib.pyplot as plt

    return plt


def _cjk_font_file() -> tuple[str, int] | None:
    """(path, index in a collection) of the CJK font the plots use, or None."""
    try:
        from matplotlib import font_manager

        from .plotting import setup_cjk_font

        family = setup_cjk_font()
        if not family:
            return None
        for f in font_manager.fontManager.ttflist:
            if f.name == family and str(f.fname).lower().endswith((".otf", ".ttf", ".ttc", ".otc")):
                return str(f.fname), 0
    except Exception:  # pragma: no cover - no plotting module / matplotlib trouble
        return None
    return None


def embedded_font_css(text: str, family: str = "ReportCJK") -> str:
    """An ``@font-face`` rule with a WOFF subset (just the non-Latin characters of ``text``) of
    the CJK font the plots use, as a ``data:`` URI — so Chinese text renders in any browser,
    even one without Chinese fonts, with no download. Latin text keeps the system fonts (and
    their bold). Empty string if fontTools or a font is missing."""
    chars = {ord(c) for c in text if ord(c) >= 0x2000}
    found = _cjk_font_file()
    if not found or not chars:
        return ""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        font = TTFont(found[0], fontNumber=found[1], lazy=True)
        opts = subset.Options()
        opts.flavor = "woff"
        opts.layout_features = ["*"]
        opts.hinting = False
        opts.notdef_outline = True
        sub = subset.Subsetter(opts)
        sub.populate(unicodes=chars)
        sub.subset(font)
        buf = io.BytesIO()
        font.flavor = "woff"
        font.save(buf)
    except Exception as exc:  # pragma: no cover - broken font / fontTools missing
        log.info("no embedded CJK font: %s", exc)
        return ""
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'@font-face {{ font-family: "{family}"; font-style: normal; font-weight: 400; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); unicode-range: U+2000-FFFF; }}\n'
            f'body {{ font-family: "{family}", {FONT_STACK}; }}\n')


# --------------------------------------------------------------------------- state

@dataclass
class _Ctx:
    corpus: Corpus
    top_slogans: int
    k_topics: int
    seed: int
    topic_passes: int
    max_pages_listed: int
    min_years: int
    cache: dict[str, Any] = field(default_factory=dict)
    workers: int = 1
    timings: dict[str, float] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        try:
            return getattr(self.corpus, name)
        except FileNotFoundError:
            return None

    # shared intermediate results, computed once
    def doc_stats(self) -> pd.DataFrame:
        if "doc_stats" not in self.cache:
            from .analysis.stats import document_stats

            self.cache["doc_stats"] = document_stats(self.corpus, tokens=False)  # unless `run` handed its own
        return self.cache["doc_stats"]

    def clusters(self) -> pd.DataFrame:
        if "clusters" not in self.cache:
            from .export.dedup import near_duplicate_clusters

            self.cache["clusters"] = near_duplicate_clusters(self.corpus.documents)
        return self.cache["clusters"]

    def years(self) -> tuple[bool, str]:
        """(use years?, why) — years are sparse with < min_years distinct years or < half the documents dated."""
        docs = self.corpus.documents
        y = pd.to_numeric(docs["year"], errors="coerce") if "year" in docs else pd.Series(dtype=float)
        n_dated, n_years = int(y.notna().sum()), int(y.dropna().nunique())
        why = f"{n_dated} of {len(docs)} documents have a year ({n_years} distinct years)"
        return (n_years >= self.min_years and n_dated * 2 >= len(docs)), why


# --------------------------------------------------------------------------- sections

def _sec_glance(ctx: _Ctx) -> str:
    pages, docs = ctx.corpus.pages, ctx.corpus.documents
    status = pages["status"].value_counts() if "status" in pages else pd.Series(dtype=int)
    n_raw = int(pages["n_chars_raw"].fillna(0).sum()) if "n_chars_raw" in pages else None
    n_kept = int(pages["n_chars_kept"].fillna(0).sum()) if "n_chars_kept" in pages else None
    n_doc_chars = int(docs["n_chars"].fillna(0).sum()) if "n_chars" in docs else int(docs["text"].str.len().sum())
    n_trunc = int(pages["truncated"].fillna(False).astype(bool).sum()) if "truncated" in pages else 0
    cards = [("pages", len(pages)), ("ok", int(status.get("ok", 0))), ("empty", int(status.get("empty", 0))),
             ("errors", int(status.get("error", 0))), ("documents", len(docs)),
             ("characters (raw)", n_raw), ("characters (kept)", n_kept), ("characters in documents", n_doc_chars),
             ("truncated pages", n_trunc)]
    secs = ctx.table("sections")
    if secs is not None:
        cards.append(("numbered sections", len(secs)))
    parts = [_cards([(k, v) for k, v in cards if v is not None])]
    grids = []
    for col, label in (("script", "Script (before conversion)"), ("encoding", "Encoding"), ("format", "Format"),
                       ("status", "Status")):
        if col in pages.columns:
            vc = pages[col].fillna("(none)").value_counts().rename_axis(col).reset_index(name="pages")
            grids.append(f"<div><h3>{esc(label)}</h3>{html_table(vc)}</div>")
    parts.append('<div class="grid">' + "".join(grids) + "</div>")
    errs = pages[pages["status"] == "error"] if "status" in pages else pages.iloc[0:0]
    if len(errs):
        parts.append("<h3>Errors</h3>" + html_table(errs, ["source", "error"], wrap=["source", "error"]))
    try:
        m = ctx.corpus.manifest
        t = m.get("timings") or {}
        info = f"corpus-tools {m.get('version', '?')}; config digest {m.get('config_digest', '?')}"
        if t:
            info += "; ingest timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in t.items()
                                                    if isinstance(v, (int, float)))
        parts.append(_note(info))
    except Exception:  # no or broken manifest: not worth a section of its own
        pass
    return "".join(parts)


def _sec_cleaning(ctx: _Ctx) -> str:
    rem = ctx.table("removed")
    if rem is None:
        return _na("removed.parquet not found")
    if not len(rem):
        return _note("nothing was removed or repaired")
    rem = rem.copy()
    rem["n_chars"] = (rem["raw_end"] - rem["raw_start"]).clip(lower=0) if {"raw_start", "raw_end"} <= set(rem) \
        else rem["text"].fillna("").str.len()
    if "kind" not in rem:
        rem["kind"] = "removed"
    g = (rem.groupby(["kind", "reason"], dropna=False)
         .agg(spans=("n_chars", "size"), characters=("n_chars", "sum"), pages=("page_id", "nunique"))
         .reset_index())
    example = rem.sort_values("n_chars", ascending=False).drop_duplicates(["kind", "reason"]).set_index(
        ["kind", "reason"])["text"]
    g["example"] = [_clip(example.get((k, r), ""), 60) for k, r in zip(g["kind"], g["reason"])]
    order = {"removed": 0, "repair": 1, "convert": 2, "structure": 3}
    g["_o"] = g["kind"].map(order).fillna(9)
    g = g.sort_values(["_o", "characters"], ascending=[True, False]).drop(columns="_o")
    tot = g.groupby("kind")["characters"].sum()
    summary = "; ".join(f"{k}: {int(v):,} characters" for k, v in tot.items())
    return (_note("kind = removed (deleted text), repair (fixed in place), convert (traditional → simplified "
                  "and similar), structure (essay separators, titles, sign-offs taken out of the text). "
                  + summary)
            + html_table(g, ["kind", "reason", "spans", "characters", "pages", "example"], wrap=["example"],
                         scroll=len(g) > 25))


def _clip(text: Any, n: int) -> str:
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    s = s.replace("\n", "⏎")
    return s if len(s) <= n else s[: n - 1] + "…"


def _sec_documents(ctx: _Ctx) -> str:
    docs = ctx.corpus.documents
    plt = _pyplot()
    parts: list[str] = []
    years = pd.to_numeric(docs["year"], errors="coerce")
    per_year = years.dropna().astype(int).value_counts().sort_index()
    n_undated = int(years.isna().sum())
    genre_note = ""
    try:
        ds = ctx.doc_stats()
        genres = ds["genre"].fillna("other").value_counts()
        orgs = ds["org_type"].fillna("other").value_counts() if "org_type" in ds else None
    except Exception as exc:
        genres, orgs = None, None
        genre_note = f"genres: not available: {type(exc).__name__}: {exc}"
    ncols = 1 + (genres is not None)
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 3.4), squeeze=False)
    ax = axes[0][0]
    labels = [str(y) for y in per_year.index] + (["无年份\n(no year)"] if n_undated else [])
    values = list(per_year.values) + ([n_undated] if n_undated else [])
    colors = ["#b42318"] * len(per_year) + (["#98a2b3"] if n_undated else [])
    ax.bar(labels, values, color=colors)
    ax.set_title("每年文档数 (documents per year)")
    ax.tick_params(axis="x", labelsize=8, rotation=45 if len(labels) > 8 else 0)
    if genres is not None:
        ax2 = axes[0][1]
        g = genres.sort_values()
        ax2.barh([str(i) for i in g.index], g.values, color="#2c7fb8")
        ax2.set_title("体裁 (documents per genre)")
    fig.tight_layout()
    parts.append(_figure(fig, "documents per year and genre",
                         f"{len(docs)} documents; {len(docs) - n_undated} with a year, {n_undated} without."))
    tables = []
    yt = per_year.rename_axis("year").reset_index(name="documents")
    if n_undated:
        yt = pd.concat([yt, pd.DataFrame({"year": ["(none)"], "documents": [n_undated]})], ignore_index=True)
    tables.append(f"<div><h3>Year</h3>{html_table(yt)}</div>")
    if genres is not None:
        tables.append(f"<div><h3>Genre</h3>{html_table(genres.rename_axis('genre').reset_index(name='documents'))}</div>")
    if orgs is not None:
        tables.append("<div><h3>Organisation type</h3>"
                      f"{html_table(orgs.rename_axis('org_type').reset_index(name='documents'))}</div>")
    parts.append('<div class="grid">' + "".join(tables) + "</div>")
    if genre_note:
        parts.append(_na(genre_note))
    return "".join(parts)


def _sec_sections(ctx: _Ctx) -> str:
    secs = ctx.table("sections")
    if secs is None:
        return _na("sections.parquet not found (run `corpus-tools sections`)")
    docs = ctx.corpus.documents
    if not len(secs):
        return _note("no numbered headings were found")
    depth = secs.groupby("doc_id")["level"].max().reindex(docs["doc_id"]).fillna(0).astype(int)
    depth_vc = depth.value_counts().sort_index()
    level_vc = secs["level"].value_counts().sort_index()
    top = secs[secs["level"] == 1]
    roles = top["role"].fillna("other").value_counts() if "role" in top else pd.Series(dtype=int)
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    axes[0].bar([str(i) for i in depth_vc.index], depth_vc.values, color="#b42318")
    axes[0].set_title("文档大纲深度 (outline depth per document)")
    axes[0].set_xlabel("deepest level (0 = no numbered outline)")
    axes[1].bar([str(i) for i in level_vc.index], level_vc.values, color="#2c7fb8")
    axes[1].set_title("各层级标题数 (headings per level)")
    r = roles.sort_values()
    axes[2].barh([str(i) for i in r.index], r.values, color="#3f8f4f")
    axes[2].set_title("一级标题角色 (top-level roles)")
    fig.tight_layout()
    parts = [_figure(fig, "section depth and roles",
                     f"{len(secs):,} numbered headings in {secs['doc_id'].nunique()} of {len(docs)} documents; "
                     f"{len(top):,} top-level sections.")]
    tables = [
        "<div><h3>Outline depth per document</h3>"
        + html_table(depth_vc.rename_axis("depth").reset_index(name="documents")) + "</div>",
        "<div><h3>Headings per level</h3>"
        + html_table(level_vc.rename_axis("level").reset_index(name="headings")) + "</div>",
        "<div><h3>Top-level section roles</h3>"
        + html_table(roles.rename_axis("role").reset_index(name="sections")) + "</div>",
    ]
    parts.append('<div class="grid">' + "".join(tables) + "</div>")
    named = top[top["role"].fillna("other") != "other"] if "role" in top else top.iloc[0:0]
    if len(named):
        ex = named.groupby("role").head(3)[["role", "marker", "heading", "doc_id"]]
        ex = ex.assign(heading=ex["heading"].map(lambda s: _clip(s, 50)))
        parts.append("<h3>Examples of top-level headings with a role</h3>" + html_table(ex, wrap=["heading"]))
    return "".join(parts)


def _sec_themes(ctx: _Ctx) -> str:
    from .analysis.themes import theme_frequencies
    from .plotting import theme_heatmap

    use_years, why = ctx.years()
    parts = []
    by = "year" if use_years else "genre"
    freqs = None
    targs = ctx.cache.get("theme_args", {})  # `corpus-tools run`: its lexicon and theme hits
    if by == "genre":
        try:
            freqs = theme_frequencies(ctx.corpus, by="genre", **targs)
            parts.append(_note(f"Years are sparse ({why}), so themes are shown per genre."))
        except Exception as exc:
            parts.append(_note(f"per genre not available ({type(exc).__name__}: {exc}); per page instead"))
            by = "page"
    if freqs is None:
        freqs = theme_frequencies(ctx.corpus, by=by, **targs)
        if by == "year":
            parts.append(_note(f"{why}; undated documents are left out."))
    if not len(freqs):
        return "".join(parts) + _na(f"no groups to compare by {by}")
    group_col = freqs.columns[0]
    fig = theme_heatmap(freqs, index=group_col, title=f"主题频率 · 每万字命中 (theme × {group_col})")
    parts.append(_figure(fig, f"theme frequency heatmap by {group_col}",
                         "Hits per 10,000 characters of clean text; themes from resources/themes.toml."))
    labels = freqs.attrs.get("labels", {})
    overall = (freqs.groupby("theme", sort=False)
               .agg(hits=("hits", "sum"), n_chars=("n_chars", "sum")).reset_index())
    overall["hits_per_10k_chars"] = overall["hits"] * 10000.0 / overall["n_chars"].clip(lower=1)
    overall.insert(1, "label", overall["theme"].map(labels))
    overall = overall.sort_values("hits", ascending=False)
    parts.append("<h3>Whole corpus</h3>" + html_table(overall, ["theme", "label", "hits", "hits_per_10k_chars"],
                                                      formats={"hits_per_10k_chars": ".1f"}))
    return "".join(parts)


def _sec_topics(ctx: _Ctx) -> str:
    from .analysis.topics import fit_topics
    from .plotting import topic_top_words

    n_docs = len(ctx.corpus.documents)
    res = ctx.cache.get("topics")
    if res is not None:  # the model `corpus-tools run` fitted for analysis/topics.csv
        params = getattr(res, "params", {}) or {}
        name = "LDA (gensim)" if res.method == "lda" else "NMF (scikit-learn)"
        passes = f", {params['passes']} passes" if "passes" in params else ""
        summ = f"{name}, k={res.k}, seed={res.seed}{passes} over {params.get('n_units', n_docs)} units (analysis/topics.csv)"
    else:
        if n_docs < 3:
            return _na(f"too few documents for a topic model ({n_docs})")
        k = max(2, min(ctx.k_topics, n_docs // 2))
        res = fit_topics(ctx.corpus, k=k, method="lda", seed=ctx.seed, passes=ctx.topic_passes, iterations=100,
                         topn=10)
        summ = f"LDA (gensim), k={k}, seed={ctx.seed}, {ctx.topic_passes} passes over {n_docs} documents"
    parts = []
    cs = getattr(res, "coherence_summary", {}) or {}
    params = getattr(res, "params", {}) or {}
    if params.get("n_terms"):
        summ += f", vocabulary {params['n_terms']:,} terms"
    if cs:
        summ += "; mean coherence " + ", ".join(f"{m} {v:.3f}" for m, v in cs.items())
    parts.append(_note(summ + ". A small model for orientation — use `corpus-tools topics` to choose k."))
    parts.append(_figure(topic_top_words(res, n=8), "topic top words"))
    tt = res.top_terms(10) if hasattr(res, "top_terms") else res.topics
    fmts = {c: ".3f" for c in ("c_v", "c_npmi")}
    parts.append(html_table(tt, [c for c in ("topic", "label", "terms", "c_v", "c_npmi") if c in tt.columns],
                            formats=fmts, wrap=["terms"]))
    return "".join(parts)


def _sec_slogans(ctx: _Ctx) -> str:
    from .analysis.slogans import find_slogans, slogan_timeline
    from .plotting import slogan_bars
    from .plotting import slogan_timeline as plot_timeline

    if "slogans" in ctx.cache:  # the full table `corpus-tools run` computed for analysis/slogans.csv
        from .analysis.slogans import select_top

        sl = select_top(ctx.cache["slogans"], ctx.top_slogans)
    else:
        try:
            clusters = ctx.clusters()
        except Exception:
            clusters = None
        sl = find_slogans(ctx.corpus, top=ctx.top_slogans, clusters=clusters)
    if not len(sl):
        return _note("no recurring slogans found")
    parts = [_note("count = occurrences; count_dedup = occurrences with near-duplicate documents counted once; "
                   "kind: quoted phrase, numeric formula (三个代表…), enumeration, recurring word sequence (mwe), "
                   "known = from resources/slogans.toml.")]
    parts.append(_figure(slogan_bars(sl, n=min(20, len(sl))), "top slogans"))
    cols = ["slogan", "kind", "known", "count", "count_dedup", "n_documents", "first_year", "last_year", "contexts"]
    view = sl.head(ctx.top_slogans).copy()
    if "contexts" in view:
        view["contexts"] = view["contexts"].map(lambda s: _clip(s, 120))
    parts.append(html_table(view, cols, wrap=["contexts"], scroll=len(view) > 15))
    parts.append("<h3>Timeline</h3>")
    docs = ctx.corpus.documents
    years = pd.to_numeric(docs["year"], errors="coerce")
    n_years = int(years.dropna().nunique())
    if n_years < 2:
        parts.append(_na(f"a timeline needs documents from at least two years ({n_years} distinct years)"))
        return "".join(parts)
    tl = slogan_timeline(ctx.corpus, sl, workers=ctx.workers)
    if not len(tl) or not tl["count"].sum():
        parts.append(_na("none of the top slogans occurs in a dated document"))
        return "".join(parts)
    n_dated = int(years.notna().sum())
    fig = plot_timeline(tl, n=8)
    parts.append(_figure(fig, "slogan timeline",
                         f"Occurrences per year of the 8 most frequent slogans in dated documents; based on "
                         f"{n_dated} of {len(docs)} documents with a year ({n_years} distinct years)."))
    return "".join(parts)


def _sec_duplicates(ctx: _Ctx) -> str:
    cl = ctx.clusters()
    multi = cl[cl["cluster_size"] > 1] if "cluster_size" in cl else cl[cl.duplicated("cluster_id", keep=False)]
    n_clusters = multi["cluster_id"].nunique()
    docs = ctx.corpus.documents.set_index("doc_id")
    parts = [_cards([("documents", len(cl)), ("clusters with duplicates", n_clusters),
                     ("duplicates (not kept)", int((~multi["kept"]).sum()) if len(multi) else 0)])]
    parts.append(_note("Exact duplicates (same normalised text) and near duplicates (MinHash over 5-character "
                       "shingles, verified Jaccard or containment ≥ 0.8). The kept document is the longest."))
    if not n_clusters:
        parts.append(_note("no near-duplicate documents found"))
        return "".join(parts)
    v = multi.copy()
    v["title"] = v["doc_id"].map(docs["title"]) if "title" in docs else None
    v["source"] = v["doc_id"].map(docs["source"]) if "source" in docs else None
    v["n_chars"] = v["doc_id"].map(docs["n_chars"]) if "n_chars" in docs else None
    v = v.sort_values(["cluster_id", "kept", "doc_id"], ascending=[True, False, True])
    parts.append(html_table(v, ["cluster_id", "doc_id", "kept", "dup_type", "similarity", "n_chars", "title",
                                "source"], formats={"similarity": ".3f"}, wrap=["title", "source"],
                            scroll=len(v) > 40))
    return "".join(parts)


def _status_class(v: Any) -> str:
    return {"ok": "st-ok", "empty": "st-empty", "error": "st-error"}.get(str(v), "st-other")


def _sec_pages(ctx: _Ctx) -> str:
    pages = ctx.corpus.pages
    cols = ["source", "status", "error", "encoding", "script", "n_documents", "truncated", "n_chars_raw",
            "n_chars_kept", "title"]
    v = pages.copy()
    if "title" in v:
        v["title"] = v["title"].map(lambda s: _clip(s, 40))
    # errors first, then empty, then the rest; each in source order
    if "status" in v:
        v["_o"] = v["status"].map({"error": 0, "empty": 1}).fillna(2)
        v = v.sort_values(["_o", "source"], kind="stable").drop(columns="_o")
    return html_table(v, cols, wrap=["source", "error", "title"], classes={"status": _status_class},
                      scroll=len(v) > 30, max_rows=ctx.max_pages_listed)


_BUILDERS: list[tuple[str, Callable[[_Ctx], str]]] = [
    ("glance", _sec_glance), ("cleaning", _sec_cleaning), ("documents", _sec_documents),
    ("sections", _sec_sections), ("themes", _sec_themes), ("topics", _sec_topics), ("slogans", _sec_slogans),
    ("duplicates", _sec_duplicates), ("pages", _sec_pages),
]


# --------------------------------------------------------------------------- assembly

def _quiet_jieba() -> None:
    """jieba logs "Building prefix dict…" at DEBUG on stderr (its import resets the level)."""
    try:
        import jieba

        jieba.setLogLevel(logging.WARNING)
    except Exception:  # pragma: no cover - jieba missing: the tokenizing sections will say so
        pass


def render_report(corpus: Corpus | str | Path, top_slogans: int = 30, k_topics: int = 8, seed: int = 13,
                  topic_passes: int = 5, max_pages_listed: int = 5000, min_years_for_timeline: int = 3,
                  progress: Callable[[str, int, int], None] | None = None,
                  embed_font: bool = True, reuse: dict[str, Any] | None = None,
                  workers: int = 1) -> tuple[str, dict[str, float]]:
    """Build the report HTML in memory: ``(html, {section: seconds})``. ``embed_font`` embeds
    a subset of the plots' CJK font (see :func:`embedded_font_css`). ``reuse``: results
    already computed for this corpus, shown instead of computed again (what ``corpus-tools
    run`` passes): ``clusters`` (near-duplicate clusters), ``slogans`` (the full
    :func:`~corpus_tools.analysis.slogans.find_slogans` table, ``top=None``; the report
    keeps ``top_slogans`` rows of it), ``topics`` (a fitted topic model, shown instead
    of the report's own small one), ``doc_stats`` (:func:`~corpus_tools.analysis.stats.document_stats`
    with or without the token columns) and ``theme_args`` (``lexicon``, ``extend`` and
    ``hits`` for :func:`~corpus_tools.analysis.themes.theme_frequencies`: the report then
    shows the analysis tables' lexicon). ``workers``: processes for the counting the
    report still does (the slogan timeline)."""
    corpus = corpus if isinstance(corpus, Corpus) else load_corpus(corpus)
    _quiet_jieba()
    ctx = _Ctx(corpus, top_slogans=top_slogans, k_topics=k_topics, seed=seed, topic_passes=topic_passes,
               max_pages_listed=max_pages_listed, min_years=min_years_for_timeline,
               cache={k: v for k, v in (reuse or {}).items() if v is not None}, workers=max(1, workers))
    t_all = time.perf_counter()
    body: list[str] = []
    for i, (key, fn) in enumerate(_BUILDERS):
        t0 = time.perf_counter()
        try:
            content = fn(ctx)
        except Exception as exc:  # one section failing never breaks the report
            log.warning("report section %s failed: %s", key, exc)
            log.debug("%s", traceback.format_exc())
            content = _na(f"{type(exc).__name__}: {exc}")
        finally:
            try:
                import matplotlib.pyplot as plt

                plt.close("all")
            except Exception:  # pragma: no cover
                pass
        ctx.timings[key] = round(time.perf_counter() - t0, 3)
        body.append(f'<section id="{key}"><h2>{esc(SECTION_TITLES[key])}</h2>{content}</section>')
        if progress:
            progress("report", i + 1, len(_BUILDERS))
    name = corpus.path.resolve().name or str(corpus.path)
    font_css = ""
    if embed_font:
        t0 = time.perf_counter()
        visible = html.unescape(re.sub(r"data:[^\"]*", "", "".join(body)))
        font_css = embedded_font_css(visible + name + str(corpus.path) + "".join(SECTION_TITLES.values()))
        ctx.timings["font"] = round(time.perf_counter() - t0, 3)
    total = time.perf_counter() - t_all
    toc = "".join(f'<a href="#{k}">{esc(v)}</a>' for k, v in SECTION_TITLES.items())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in ctx.timings.items())
    doc = f"""<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="corpus-tools {esc(__version__)}">
<title>corpus-tools report — {esc(name)}</title>
<style>{CSS}{font_css}</style>
</head>
<body>
<main>
<header class="top">
<h1>Corpus report: {esc(name)}</h1>
<p class="sub">{esc(str(corpus.path))} · generated {esc(stamp)} by corpus-tools {esc(__version__)}</p>
<nav class="toc">{toc}</nav>
</header>
{"".join(body)}
<footer>Built in {total:.1f}s ({esc(timing)}). Self-contained: inline styles, embedded PNG images{" and font" if font_css else ""}, no scripts,
no network access.</footer>
</main>
</body>
</html>
"""
    return doc, ctx.timings


def build_report(corpus_dir: str | Path, out_path: str | Path | None = None, quiet: bool = False,
                 top_slogans: int = 30, k_topics: int = 8, seed: int = 13, *, topic_passes: int = 5,
                 max_pages_listed: int = 5000, min_years_for_timeline: int = 3,
                 progress: Callable[[str, int, int], None] | None = None, embed_font: bool = True,
                 reuse: dict[str, Any] | None = None, workers: int = 1) -> Path:
    """Write the HTML report of ``corpus_dir`` to ``out_path`` (default ``corpus_dir/report.html``).

    ``top_slogans`` rows of slogans, a ``k_topics`` LDA model (``topic_passes`` passes, ``seed``),
    at most ``max_pages_listed`` rows in the page table; themes are shown per year when at
    least ``min_years_for_timeline`` distinct years and half the documents are dated, per genre
    otherwise. ``progress`` is an ``(stage, done, total)`` callback (see
    :mod:`corpus_tools.progress`); without one, a progress bar is drawn on a terminal unless
    ``quiet``. ``embed_font=False`` leaves Chinese text to the viewer's fonts (a smaller file).
    ``reuse``: results computed already, ``workers``: processes (see :func:`render_report`). Returns the path
    written (atomically).
    """
    corpus = load_corpus(corpus_dir)
    out = Path(out_path) if out_path is not None else corpus.path / "report.html"
    kwargs = dict(top_slogans=top_slogans, k_topics=k_topics, seed=seed, topic_passes=topic_passes,
                  max_pages_listed=max_pages_listed, min_years_for_timeline=min_years_for_timeline,
                  embed_font=embed_font, reuse=reuse, workers=workers)
    if progress is None and not quiet:
        from .progress import Progress

        with Progress(quiet=quiet) as p:
            doc, _ = render_report(corpus, progress=p.stage("report", len(_BUILDERS), unit="sections"), **kwargs)
    else:
        doc, _ = render_report(corpus, progress=progress, **kwargs)
    atomic_write_text(out, doc)
    return out

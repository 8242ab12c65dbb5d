"""Matplotlib figures for theme, topic and slogan tables, with Chinese labels that render.

>>> from corpus_tools import plotting
>>> plotting.setup_cjk_font()            # done automatically by every helper
'Noto Sans CJK SC'
>>> fig = plotting.theme_bars(theme_frequencies(corpus, by=None))      # doctest: +SKIP
>>> fig.savefig("themes.png", dpi=150)                                  # doctest: +SKIP

Fonts: :func:`setup_cjk_font` registers the Noto Sans CJK SC font shipped by ``mplfonts``
(``pip install mplfonts``, extra ``corpus-tools[fonts]``) with
``matplotlib.font_manager.fontManager.addfont`` — no download, nothing written to disk — and
otherwise falls back to any installed CJK font (Noto/Source Han/WenQuanYi/SimHei/…). If none
is found it warns once; labels then show as boxes.
"""
from __future__ import annotations

import glob
import os
import warnings
from typing import Any, Sequence

import pandas as pd

__all__ = ["setup_cjk_font", "theme_bars", "theme_heatmap", "topic_top_words", "slogan_bars",
           "slogan_timeline", "topics_over_time"]

_FONT: str | None = None
_CANDIDATES = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
               "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "Hiragino Sans GB",
               "Noto Sans CJK JP", "Noto Serif CJK SC", "AR PL UMing CN", "Droid Sans Fallback"]


def setup_cjk_font(prefer: str | None = None) -> str | None:
    """Register and select a CJK font for matplotlib; returns its family name (or None)."""
    global _FONT
    if _FONT is not None and prefer is None:
        return _FONT
    import matplotlib
    from matplotlib import font_manager

    try:
        import mplfonts

        fdir = os.path.join(os.path.dirname(mplfonts.__file__), "fonts")
        for path in sorted(glob.glob(os.path.join(fdir, "*.[ot]tf"))):
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # pragma: no cover - broken font file
                pass
    except ImportError:
        pass
    available = {f.name for f in font_manager.fontManager.ttflist}
    order = ([prefer] if prefer else []) + _CANDIDATES
    chosen = next((n for n in order if n in available), None)
    if chosen is None:
        chosen = next((f.name for f in font_manager.fontManager.ttflist
                       if any(s in f.name for s in ("CJK", "Hei", "Han", "Ming", "Song", "Kai"))), None)
    if chosen is None:
        warnings.warn("no CJK font found: Chinese labels will not render (pip install mplfonts)", stacklevel=2)
        return None
    fams = list(matplotlib.rcParams.get("font.sans-serif", []))
    matplotlib.rcParams["font.sans-serif"] = [chosen] + [f for f in fams if f != chosen]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    _FONT = chosen
    return chosen


def _plt():
    setup_cjk_font()
    import matplotlib.pyplot as plt

    return plt


def _labels(freqs: pd.DataFrame, labels: str | dict | None) -> dict:
    if isinstance(labels, dict):
        return labels
    if labels == "en":
        return dict(freqs.attrs.get("labels_en", {}))
    if labels == "id":
        return {}
    if labels in (None, "zh"):
        got = dict(freqs.attrs.get("labels", {}))
        if not got:
            try:
                from .analysis.themes import load_lexicon

                got = {t.id: t.label_zh for t in load_lexicon()}
            except Exception:  # pragma: no cover
                got = {}
        return got
    return {}


def theme_bars(freqs: pd.DataFrame, value: str = "hits_per_10k_chars", labels: str | dict | None = "zh",
               title: str | None = None, ax: Any = None, sort: bool = True):
    """Horizontal bars of one value per theme (summed over groups for ``hits``; mean of the
    groups for rates and shares). ``freqs`` is :func:`theme_frequencies` output (any ``by``)."""
    plt = _plt()
    agg = "sum" if value in ("hits", "n_units", "n_chars") else "mean"
    if value == "hits_per_10k_chars" and {"hits", "n_chars"} <= set(freqs.columns):
        # pooled rate over all groups: total hits / total characters (each group once per theme)
        g = freqs.groupby("theme", sort=False).agg(hits=("hits", "sum"), n_chars=("n_chars", "sum"))
        s = g["hits"] * 10000.0 / g["n_chars"].clip(lower=1)
    else:
        s = freqs.groupby("theme", sort=False)[value].agg(agg)
    if sort:
        s = s.sort_values()
    names = _labels(freqs, labels)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(s) + 1.2))
    else:
        fig = ax.figure
    ax.barh([names.get(i, i) for i in s.index], s.values, color="#c0392b")
    ax.set_xlabel({"hits_per_10k_chars": "每万字命中次数 (hits per 10k chars)",
                   "share_of_documents": "提及该主题的文档比例 (share of documents)",
                   "hits": "命中次数 (hits)"}.get(value, value))
    ax.set_title(title or "工会工作主题频率")
    fig.tight_layout()
    return fig


def theme_heatmap(freqs: pd.DataFrame, index: str = "year", value: str = "hits_per_10k_chars",
                  labels: str | dict | None = "zh", title: str | None = None, cmap: str = "Reds", annotate: bool | None = None):
    """Heatmap group x theme (``index`` = the grouping column of ``freqs``)."""
    plt = _plt()
    if index not in freqs.columns:
        index = freqs.columns[0]
    m = freqs.pivot_table(index=index, columns="theme", values=value, aggfunc="mean", sort=True)
    order = list(dict.fromkeys(freqs["theme"]))
    m = m[[c for c in order if c in m.columns]]
    names = _labels(freqs, labels)
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * m.shape[1], 1.2 + 0.32 * m.shape[0]))
    im = ax.imshow(m.to_numpy(dtype=float), aspect="auto", cmap=cmap)
    ax.set_xticks(range(m.shape[1]), [names.get(c, c) for c in m.columns], rotation=45, ha="right")
    ax.set_yticks(range(m.shape[0]), [str(i) for i in m.index])
    if annotate is None:
        annotate = m.size <= 200
    if annotate:
        vmax = float(pd.DataFrame(m).max().max() or 1)
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                v = m.iat[i, j]
                if pd.notna(v):
                    ax.text(j, i, f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}", ha="center", va="center", fontsize=7,
                            color="white" if v > 0.6 * vmax else "black")
    fig.colorbar(im, ax=ax, label=value)
    ax.set_title(title or f"主题频率 ({index})")
    fig.tight_layout()
    return fig


def topic_top_words(result: Any, n: int = 8, ncols: int = 4, title: str | None = None):
    """Small multiples: the top ``n`` words of each topic with their weights."""
    plt = _plt()
    topics = result.topics if hasattr(result, "topics") else result
    ids = sorted(topics["topic"].unique())
    nrows = (len(ids) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.4 * nrows), squeeze=False)
    labels = (getattr(result, "params", {}) or {}).get("seed_themes", {}) if hasattr(result, "params") else {}
    coh = result.coherence.set_index("topic") if hasattr(result, "coherence") and "c_npmi" in result.coherence else None
    for ax, t in zip(axes.flat, ids):
        d = topics[(topics["topic"] == t) & (topics["rank"] <= n)].sort_values("rank", ascending=False)
        ax.barh(d["term"], d["weight"], color="#2c7fb8")
        head = f"主题 {t}" + (f" · {labels[str(t)]}" if str(t) in labels else "")
        if coh is not None and t in coh.index:
            head += f"\nc_npmi={coh.at[t, 'c_npmi']:.2f}"
        ax.set_title(head, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(ids):]:
        ax.axis("off")
    fig.suptitle(title or f"{getattr(result, 'method', '').upper()} 主题词 (k={len(ids)})")
    fig.tight_layout()
    return fig


def topics_over_time(frame: pd.DataFrame, by: str = "year", topics: Sequence[int] | None = None, title: str | None = None):
    """Lines of topic weight per group (``TopicModelResult.over_time()`` output)."""
    plt = _plt()
    m = frame.pivot(index=by, columns="topic", values="weight").sort_index()
    if topics is not None:
        m = m[list(topics)]
    return _line_chart(plt, m, list(m.columns), [f"主题 {t}" for t in m.columns], by, "平均主题权重",
                       title or "主题随时间变化", figsize=(8, 4), legend_size=7)


def _line_chart(plt, m: pd.DataFrame, columns: list, labels: list[str], xlabel: str, ylabel: str, title: str,
                figsize: tuple[float, float], legend_size: int):
    """One line with markers per column of ``m`` (index on the x axis)."""
    fig, ax = plt.subplots(figsize=figsize)
    for col, label in zip(columns, labels):
        ax.plot(m.index, m[col], marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=legend_size, ncol=2)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def slogan_bars(slogans: pd.DataFrame, n: int = 20, slogan_col: str = "slogan", count_col: str = "count",
                title: str | None = None):
    """Horizontal bars of the ``n`` most frequent slogans (columns ``slogan``, ``count``)."""
    plt = _plt()
    d = slogans.groupby(slogan_col, sort=False)[count_col].sum().sort_values(ascending=False).head(n)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(d) + 1.2))
    ax.barh([str(s) for s in d.index], d.values, color="#d35400")
    ax.set_xlabel("出现次数 (count)")
    ax.set_title(title or "高频口号与提法")
    fig.tight_layout()
    return fig


def slogan_timeline(slogans_by_year: pd.DataFrame, slogans: Sequence[str] | None = None, n: int = 8,
                    by: str = "year", slogan_col: str = "slogan", count_col: str = "count", title: str | None = None):
    """Lines of slogan counts per year (columns ``year``, ``slogan``, ``count``); the ``n`` most
    frequent slogans unless ``slogans`` is given."""
    plt = _plt()
    d = slogans_by_year
    if slogans is None:
        slogans = d.groupby(slogan_col)[count_col].sum().sort_values(ascending=False).head(n).index.tolist()
    m = d[d[slogan_col].isin(slogans)].pivot_table(index=by, columns=slogan_col, values=count_col,
                                                   aggfunc="sum", fill_value=0).sort_index()
    present = [x for x in slogans if x in m.columns]
    return _line_chart(plt, m, present, [str(x) for x in present], by, "出现次数", title or "口号的时间变化",
                       figsize=(9, 4), legend_size=8)

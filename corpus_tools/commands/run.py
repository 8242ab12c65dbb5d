"""`corpus-tools run INPUT... -o OUT_DIR`: the main job, every stage end to end.

ingest → sections → tokens → themes, topics, slogans, stats → export (when asked) → report.
Options not given on the command line come from ``corpus-tools.toml`` (see docs/config.md).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from .ingest import add_ingest_options, exit_code, print_summary, resolved_workers, run_ingest

EPILOG = """examples:
  corpus-tools run data/raw -o build/
  corpus-tools run pages/ -o out/ --workers 2 --quiet
  corpus-tools run pages/ -o out/ --export jsonl      # also write a deduplicated dataset to out/export/
  corpus-tools run pages/ -o out/ --no-analysis       # corpus + report only

writes OUT_DIR/{pages,documents,sections,removed}.parquet, OUT_DIR/analysis/*.csv,
OUT_DIR/report.html (and OUT_DIR/export/ with --export)."""


def _analysis(out: Path, cfg: dict, p, args: argparse.Namespace) -> tuple[dict[str, int], dict]:
    """Write the analysis tables under OUT/analysis/ (CSV, UTF-8): what a researcher opens.
    Returns (rows per table, results the report reuses).

    Documents are segmented into the token cache first on the ingest's workers and engine
    (``fill_token_cache``), so the analysis below reads tokens and never segments. What the
    report also shows is computed once here and handed to it: the near-duplicate clusters,
    the full slogan table, the topic model, the theme hits and the document statistics."""
    import logging

    import jieba

    from ..analysis.slogans import find_slogans, select_top, slogan_timeline
    from ..analysis.stats import corpus_stats, document_stats
    from ..analysis.themes import theme_frequencies, theme_hits
    from ..analysis.topics import LARGE_CORPUS, fit_topics
    from ..export.dedup import near_duplicate_clusters
    from ..store import atomic_write_text, load_corpus
    from ..tokenize import fill_token_cache

    jieba.setLogLevel(logging.WARNING)
    a = cfg["analysis"]
    corpus = load_corpus(out)
    dest = out / "analysis"
    counts: dict[str, int] = {}
    reuse: dict = {}
    workers = resolved_workers(args.workers if args.workers is not None else cfg["ingest"]["workers"])

    def save(name, df):
        atomic_write_text(dest / f"{name}.csv", df.to_csv(index=False))
        counts[name] = len(df)

    n_docs = len(corpus.documents)
    with p.timed("tokens", "documents") as st:
        fill_token_cache(out, userdict=a["userdict"], workers=workers, engine=args.engine, address=args.address)
        st.done = n_docs
    with p.timed("themes", "tables") as st:
        hits = theme_hits(corpus, lexicon=a["lexicon"], extend=a["extend"])  # once for the three tables (and the report)
        reuse["theme_args"] = {"lexicon": a["lexicon"], "extend": a["extend"], "hits": hits}
        for by in ("document", "page", "year"):
            save(f"themes_by_{by}", theme_frequencies(corpus, by=by, lexicon=a["lexicon"], extend=a["extend"],
                                                      hits=hits))
        st.done = 3
    with p.timed("topics", "topics") as st:
        k = min(int(a["topics_k"]), max(2, n_docs - 1))
        # a large corpus streams its tokens from the cache (same model, bounded memory);
        # the E step runs on the ingest's workers (same model as on one)
        auto = {"iterations": "auto", "chunksize": "auto"} if a["topics_passes"] == "auto" else {}
        res = fit_topics(corpus, k=k, method=a["topics_method"], seed=a["seed"], passes=a["topics_passes"],
                         stream=n_docs >= LARGE_CORPUS, workers=workers, **auto)
        save("topics", res.topics)
        save("topic_coherence", res.coherence)
        reuse["topics"] = res
        st.done = k
    with p.timed("slogans", "slogans") as st:
        try:
            reuse["clusters"] = clusters = near_duplicate_clusters(corpus.documents, workers=workers)
        except Exception:  # e.g. datasketch missing: slogans count documents, not clusters
            clusters = None
        ranked = find_slogans(corpus, min_documents=a["slogans_min_documents"], clusters=clusters, workers=workers)
        reuse["slogans"] = ranked
        sl = select_top(ranked, a["slogans_top"])
        save("slogans", sl)
        save("slogan_timeline", slogan_timeline(corpus, slogans=list(sl["slogan"]), workers=workers))
        st.done = len(sl)
    with p.timed("stats", "documents") as st:
        ds = document_stats(corpus)
        save("document_stats", ds)
        reuse["doc_stats"] = ds.drop(columns=["n_tokens", "n_types"], errors="ignore")  # the report's columns
        save("corpus_stats", corpus_stats(corpus, doc_stats=ds))
        st.done = len(ds)
    return counts, reuse


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError, load_config
    from ..progress import Progress

    try:
        cfg = load_config(args.config)
    except (ConfigError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out)
    with Progress(args.quiet) as p:
        summary = run_ingest(args, progress=p.stage("ingest", unit="pages"), cfg=cfg)
        p.finish("ingest")
        if not args.quiet:
            print_summary(summary)
        if args.strict and exit_code(summary, True):
            print("--strict: some pages failed or were empty; stopping before analysis", file=sys.stderr)
            return exit_code(summary, True)
        if summary.n_documents:
            reuse: dict = {}
            if not args.no_analysis:
                counts, reuse = _analysis(out, cfg, p, args)
                if not args.quiet:
                    print(f"analysis tables: {out / 'analysis'}/ ({', '.join(f'{k} {v}' for k, v in counts.items())})")
            if args.export:
                from ..export.dataset import export

                e = cfg["export"]
                with p.timed("export", "records") as st:
                    res = export(out, out / "export", format=args.export, unit=e["unit"],
                                 split=tuple(float(x) for x in str(e["split"]).split(",")), seed=e["seed"],
                                 threshold=e["threshold"], min_chars=e["min_chars"],
                                 max_placeholder_density=e["max_placeholder_density"],
                                 drop_truncated=e["drop_truncated"],
                                 drop_repeated_paragraphs=e["drop_repeated_paragraphs"])
                    st.done = len(res.records)
                if not args.quiet:
                    print(f"export: {out / 'export'}/ ({len(res.records)} records)")
            from ..report import build_report

            r = cfg["report"]
            path = build_report(out, out / r["output"], quiet=args.quiet, top_slogans=r["top_slogans"],
                                k_topics=r["k_topics"], seed=r["seed"], topic_passes=r["topic_passes"],
                                max_pages_listed=r["max_pages_listed"],
                                min_years_for_timeline=r["min_years_for_timeline"], embed_font=r["embed_font"],
                                progress=p.stage("report", unit="sections"), reuse=reuse,
                                workers=resolved_workers(args.workers if args.workers is not None
                                                         else cfg["ingest"]["workers"]))
            p.finish("report")
        p.print_summary(file=sys.stderr)
    if summary.n_documents and not args.quiet:
        print(f"report: {path.resolve()}")
    return exit_code(summary, args.strict)


def register(sub) -> None:
    p = sub.add_parser("run", help="the main job: ingest → sections → analysis → report",
                       description="Run the whole pipeline on raw pages: ingest (clean, convert, split), sections, "
                                   "tokens, themes, topics, slogans, statistics, optionally a dataset export, and a "
                                   "self-contained HTML report, all under OUT_DIR.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ingest_options(p)
    p.add_argument("--export", choices=["jsonl", "parquet", "hf"], help="also export a deduplicated dataset")
    p.add_argument("--no-analysis", action="store_true", help="skip the analysis tables (the report still has them)")
    p.set_defaults(func=run)

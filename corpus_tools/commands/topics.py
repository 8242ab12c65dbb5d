"""`corpus-tools topics`: fit a topic model (LDA or NMF) and print topics with coherence."""
from __future__ import annotations

import argparse
import sys

from ..cli import UsageError
from ..tables import add_output_options, emit


def register(sub) -> None:
    p = sub.add_parser(
        "topics", help="topic model (gensim LDA or sklearn NMF) with c_v / c_npmi coherence",
        description="Fit a topic model on documents or sections and print each topic's top words with its "
                    "coherence (c_v and c_npmi). Fixed --seed gives identical results run to run. --sweep "
                    "compares several K instead (ranked by c_npmi, not c_v alone).",
        epilog="Examples:\n  corpus-tools topics corpus/ -k 10\n  corpus-tools topics corpus/ -k 8 --method nmf --seed 7\n"
               "  corpus-tools topics corpus/ -k 10 --seeded          # theme-lexicon priors (LDA)\n"
               "  corpus-tools topics corpus/ --sweep 4,6,8,10,12\n"
               "  corpus-tools topics corpus/ -k 10 --save models/lda10 --doc-topics -o doc_topics.parquet",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", help="corpus directory (written by `corpus-tools ingest`)")
    p.add_argument("-k", type=int, default=10, help="number of topics (default 10)")
    p.add_argument("--method", choices=["lda", "nmf"], default="lda")
    p.add_argument("--seed", type=int, default=13, help="random seed (default 13)")
    p.add_argument("--unit", choices=["document", "section"], default="document")
    p.add_argument("--topn", type=int, default=10, help="top words per topic (default 10)")
    p.add_argument("--passes", type=int, default=10, help="LDA passes (default 10)")
    p.add_argument("--seeded", action="store_true", help="seed LDA topics with the theme lexicon (eta priors)")
    p.add_argument("--stopwords", default="default+filler", help="stopwords spec (default: default+filler)")
    p.add_argument("--stream", action="store_true", help="stream the bag-of-words from the token cache")
    p.add_argument("--sweep", default=None, metavar="K,K,...", help="compare these K values instead")
    p.add_argument("--workers", default=None, metavar="N",
                   help="LDA E-step processes (same model for any N; default: 1 for a single model, "
                        "'auto' = one per core for sweeps of >= 2000 units)")
    p.add_argument("--doc-topics", action="store_true", help="output the unit x topic weights instead")
    p.add_argument("--save", default=None, metavar="DIR", help="also save the model and tables to DIR")
    add_output_options(p)
    p.set_defaults(func=run)


def _workers(value: str | None, default):
    if value is None:
        return default
    if value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        raise UsageError("--workers takes a number or 'auto'") from None
    if n < 1:
        raise UsageError("--workers must be >= 1")
    return n


def run(args: argparse.Namespace) -> int:
    from ..analysis.topics import fit_topics, sweep_k

    stop = None if args.stopwords == "none" else args.stopwords
    if args.sweep:
        try:
            ks = [int(x) for x in args.sweep.split(",") if x.strip()]
        except ValueError:
            raise UsageError("--sweep takes comma-separated integers, e.g. 4,6,8") from None
        if not ks or min(ks) < 2:
            raise UsageError("--sweep needs K values >= 2")
        df = sweep_k(args.corpus, ks=ks, method=args.method, seed=args.seed, unit=args.unit, topn=args.topn,
                     stopwords=stop, stream=args.stream, workers=_workers(args.workers, "auto"))
        emit(df, args, title=f"{args.method.upper()} K sweep (rank = by c_npmi; do not choose on c_v alone)")
        return 0
    if args.k < 2:
        raise UsageError("-k must be >= 2")
    try:
        res = fit_topics(args.corpus, k=args.k, method=args.method, seed=args.seed, unit=args.unit, topn=args.topn,
                         passes=args.passes, seeded=args.seeded, stopwords=stop, stream=args.stream,
                         workers=_workers(args.workers, 1))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.save:
        res.save(args.save)
        print(f"saved model to {args.save}", file=sys.stderr)
    s = res.coherence_summary
    title = (f"{args.method.upper()} k={args.k} seed={args.seed}: mean c_v={s.get('c_v', float('nan')):.3f} "
             f"c_npmi={s.get('c_npmi', float('nan')):.3f} ({len(res.units)} units, {res.params['n_terms']} terms)")
    emit(res.doc_topics if args.doc_topics else res.top_terms(args.topn), args, title=title)
    return 0

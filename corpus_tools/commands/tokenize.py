"""`corpus-tools tokenize`: segment every document once and fill the token cache."""
from __future__ import annotations

import argparse
import sys
import time

from ..cli import UsageError
from ..tables import add_output_options, emit, emit_rows


def register(sub) -> None:
    p = sub.add_parser(
        "tokenize", help="segment documents with jieba (+ union user dictionary) and fill the token cache",
        description="Segment every document (or section) with jieba and the shipped trade-union user "
                    "dictionary and store the tokens under CORPUS/cache/tokens/ (Parquet, keyed by text "
                    "hash + dictionary/settings hash), so later analyses (themes, topics, stats) do not "
                    "re-segment. Uses rjieba when installed (same tokens, ~10x faster). Prints a summary "
                    "table (or, with --show-tokens, the tokens themselves).",
        epilog="Examples:\n  corpus-tools tokenize corpus/\n  corpus-tools tokenize corpus/ --workers 4\n"
               "  corpus-tools tokenize corpus/ --userdict my_dict.txt --backend jieba\n"
               "  corpus-tools tokenize corpus/ --show-tokens --stopwords default+filler -o tokens.parquet",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", help="corpus directory (written by `corpus-tools ingest`)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (each loads jieba once; default 1)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="run the shard tasks in local processes or on Ray (needs the `ray` extra)")
    p.add_argument("--address", default=None, help="Ray cluster address (with --engine ray), e.g. auto")
    p.add_argument("--unit", choices=["document", "section"], default="document")
    p.add_argument("--userdict", default="default",
                   help="user dictionary: 'default' (shipped), 'none', or a jieba-format file (word freq tag)")
    p.add_argument("--backend", choices=["auto", "jieba", "rjieba"], default="auto")
    p.add_argument("--no-hmm", action="store_true", help="disable jieba's HMM for unknown words")
    p.add_argument("--stopwords", default="default",
                   help="for --show-tokens: 'default', 'default+filler', 'none' or a file (default: default)")
    p.add_argument("--show-tokens", action="store_true", help="output unit_id + space-joined tokens")
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..tokenize import fill_token_cache, tokenize_documents

    if args.workers < 1:
        raise UsageError("--workers must be >= 1")
    userdict = None if args.userdict == "none" else args.userdict
    stop = None if args.stopwords == "none" else args.stopwords
    t0 = time.perf_counter()
    if args.show_tokens:
        df = tokenize_documents(args.corpus, unit=args.unit, userdict=userdict, backend=args.backend,
                                hmm=not args.no_hmm, stopwords=stop, workers=args.workers)
        emit(df.assign(tokens=df["tokens"].map(" ".join)), args)
        return 0
    # streaming: batches of units go to the cache, tokens are not kept in memory
    if args.address and args.engine != "ray":
        raise UsageError("--address needs --engine ray")
    from ..engine import arrow_without_pandas

    arrow_without_pandas()  # this path hands pyarrow no pandas objects: saves importing pandas
    info = fill_token_cache(args.corpus, unit=args.unit, userdict=userdict, backend=args.backend,
                            hmm=not args.no_hmm, workers=args.workers, engine=args.engine, address=args.address)
    secs = time.perf_counter() - t0
    emit_rows([{
        "units": info["n_units"], "segmented": info["n_segmented"], "from_cache": info["n_cached"],
        "tokens": info["n_tokens"], "backend": info["backend"], "seconds": round(secs, 2), "cache": info["cache_dir"],
    }], args, title="tokenize")
    print(f"tokenized {info['n_units']} units in {secs:.1f}s ({info['n_cached']} from cache)", file=sys.stderr)
    return 0

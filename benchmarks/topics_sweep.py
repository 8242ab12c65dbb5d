"""Benchmark a K sweep of LDA topic models on the first N documents of a corpus.

    python benchmarks/topics_sweep.py CORPUS_DIR                    # N=10000, K=4..20 step 1
    python benchmarks/topics_sweep.py CORPUS_DIR --step 2 --out /tmp/sweep.json
    python benchmarks/topics_sweep.py CORPUS_DIR --passes 10 --iterations 200 --workers 1   # historical settings

``CORPUS_DIR`` is a corpus written by ``corpus-tools ingest`` whose token cache is filled
(``corpus-tools tokenize CORPUS_DIR``); the first ``--n`` rows of its documents table (source
order, so always the same documents) are the units, tokens are read from
``CORPUS_DIR/cache/tokens``. Runs :func:`corpus_tools.analysis.topics.sweep_k` (``stream=True``
unless ``--in-memory``) and prints JSON with:

* seconds per phase: loading the documents table, tokens from the cache, dictionary + bag of
  words, each fit (per K), the shared sliding-window counts (per window size) and each K's
  coherence step; total wall time;
* CPU seconds of this process and of its worker processes (user + sys) and the average CPU
  use of *other* processes on the machine during the run (``other_load_pct``, in % of one
  core: the benchmark machine is shared, so compare CPU seconds too);
* peak memory of the process tree, sampled every 0.1 s: the sum of RSS (counts pages the
  forked workers share with the parent once per process) and the sum of PSS (shares them
  out: the memory actually used); and this process's ``ru_maxrss``;
* the resolved LDA settings and the coherence table (one row per K).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path


def _cpu_self_children() -> tuple[float, float]:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


class _TreeSampler(threading.Thread):
    """Peak RSS and PSS of this process + its children, and busy CPU time of the whole machine.

    Worker processes are forked: they share the parent's pages until written, which the RSS
    sum counts once per process; PSS (proportional set size) counts shared pages once."""

    def __init__(self, interval: float = 0.1):
        super().__init__(daemon=True)
        import psutil

        self.psutil, self.interval = psutil, interval
        self.peak = 0
        self.peak_pss = 0
        self._halt = threading.Event()
        self.busy0 = self._busy()

    def _busy(self) -> float:
        t = self.psutil.cpu_times()
        return t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)

    def run(self) -> None:
        me = self.psutil.Process()
        while not self._halt.is_set():
            try:
                procs = [me] + me.children(recursive=True)
                rss = pss = 0
                for p in procs:
                    try:
                        m = p.memory_full_info()
                        rss += m.rss
                        pss += getattr(m, "pss", m.rss)
                    except self.psutil.Error:
                        pass
                self.peak = max(self.peak, rss)
                self.peak_pss = max(self.peak_pss, pss)
            except self.psutil.Error:
                pass
            self._halt.wait(self.interval)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self._busy() - self.busy0


def _auto(value: str) -> str | int:
    return value if value == "auto" else int(value)


def parse_ks(args: argparse.Namespace) -> list[int]:
    if args.ks:
        return [int(x) for x in args.ks.split(",") if x.strip()]
    return list(range(args.k_min, args.k_max + 1, args.step))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", help="corpus directory (ingested, token cache filled)")
    ap.add_argument("--n", type=int, default=10000, help="first N documents (default 10000)")
    ap.add_argument("--k-min", type=int, default=4)
    ap.add_argument("--k-max", type=int, default=20)
    ap.add_argument("--step", type=int, default=1, help="K step (default 1: all 17 values 4..20)")
    ap.add_argument("--ks", default=None, help="explicit comma-separated K values (overrides min/max/step)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--passes", default="auto")
    ap.add_argument("--iterations", default="auto")
    ap.add_argument("--chunksize", default="auto")
    ap.add_argument("--workers", default="auto", help="E-step processes (default auto: one per core, max 4)")
    ap.add_argument("--in-memory", action="store_true", help="prepare_corpus(stream=False): token lists in memory")
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    cpu0 = _cpu_self_children()
    sampler = _TreeSampler()
    sampler.start()

    import gensim
    import numpy as np
    import pandas as pd

    from corpus_tools.analysis.topics import sweep_k
    from corpus_tools.store import load_corpus

    t0 = time.perf_counter()
    docs = load_corpus(args.corpus).documents
    n_total = len(docs)
    docs = docs.iloc[: args.n].reset_index(drop=True)
    t_load = time.perf_counter() - t0
    cache = Path(args.corpus) / "cache" / "tokens"
    ks = parse_ks(args)
    df = sweep_k(docs, ks=ks, seed=args.seed, stream=not args.in_memory, cache_dir=str(cache),
                 passes=_auto(args.passes), iterations=_auto(args.iterations), chunksize=_auto(args.chunksize),
                 workers=_auto(args.workers))
    wall = time.perf_counter() - t_start
    busy = sampler.stop()
    cpu1 = _cpu_self_children()
    cpu_self, cpu_children = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    tm = df.attrs["timings"]
    fits = tm.get("fits", {})
    out = {
        "corpus": str(args.corpus), "n_documents": len(docs), "n_documents_in_corpus": n_total,
        "ks": ks, "seed": args.seed, "stream": not args.in_memory, "settings": df.attrs.get("settings"),
        "seconds": {
            "load_documents": round(t_load, 3),
            "tokens_from_cache": tm.get("tokens"),
            "dictionary_bow": tm.get("dictionary_bow"),
            "prepare_total": tm.get("prepare"),
            "arrays": tm.get("arrays"),
            "fits": fits,
            "fits_total": round(sum(fits.values()), 3),
            "coherence_window_counts": tm.get("coherence_stats"),
            "coherence_per_k": tm.get("coherence"),
            "coherence_total": tm.get("coherence_total"),
            "sweep_total": tm.get("total"),
            "wall_total": round(wall, 3),
        },
        "coherence_terms": tm.get("coherence_terms"),
        "cpu_seconds": {"main": round(cpu_self, 2), "workers": round(cpu_children, 2),
                        "total": round(cpu_self + cpu_children, 2)},
        "other_load_pct": round(max(0.0, busy - cpu_self - cpu_children) / wall * 100, 1),
        "peak_rss_tree_mb": round(sampler.peak / 2**20, 1),
        "peak_pss_tree_mb": round(sampler.peak_pss / 2**20, 1),
        "max_rss_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "gensim": gensim.__version__,
                    "numpy": np.__version__, "pandas": pd.__version__},
        "table": json.loads(df.to_json(orient="records")),
    }
    text = json.dumps(out, indent=1, ensure_ascii=False)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""corpus-tools: clean, structure and analyse scraped Chinese trade-union report pages.

>>> from corpus_tools import ingest, load_corpus     # doctest: +SKIP
>>> ingest(["data/raw"], out="build")               # doctest: +SKIP
>>> load_corpus("build").documents.head()           # doctest: +SKIP
"""
__version__ = "0.1.0"

from .store import Corpus, load_corpus  # noqa: E402


def ingest(paths, out, **kwargs):
    """Ingest raw pages into a corpus directory; see :func:`corpus_tools.ingest.pipeline.ingest`."""
    from .ingest.pipeline import ingest as _ingest

    return _ingest(paths, out, **kwargs)


__all__ = ["ingest", "load_corpus", "Corpus", "__version__"]

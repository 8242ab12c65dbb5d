"""corpus-tools: clean, structure and analyse scraped Chinese trade-union report pages.

>>> from corpus_tools import ingest, load_corpus     # doctest: +SKIP
>>> ingest(["data/raw"], out="build")               # doctest: +SKIP
>>> load_corpus("build").documents.head()           # doctest: +SKIP
"""
__version__ = "0.1.0"

from .store import Corpus, load_corpus  # noqa: E402


# The function shadows the subpackage of the same name on purpose: `corpus_tools.ingest(...)`
# is the API, the stages live in `corpus_tools.ingest.*` modules.
from .ingest.pipeline import ingest  # noqa: E402


__all__ = ["ingest", "load_corpus", "Corpus", "__version__"]

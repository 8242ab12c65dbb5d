"""Execute every notebook under notebooks/ and fail on any cell error.

The kernel runs the interpreter running the tests (``sys.executable``) through a private
kernel spec, so a ``python3`` kernel registered elsewhere on the machine is never used. Each
notebook runs with ``notebooks/`` as its working directory (the notebooks find the repository
root by walking up from there) and writes its corpora into a temporary ``CORPUS_TOOLS_BUILD``
directory instead of ``build/``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 300
KERNEL_NAME = "corpus-tools-test"


def _outputs(nb) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def _texts(nb) -> list[str]:
    texts = []
    for out in _outputs(nb):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        for mime in ("text/html", "text/plain"):
            value = out.get("data", {}).get(mime)
            if value:
                texts.append(value if isinstance(value, str) else "".join(value))
    return texts


def _execute(path: Path, tmp_path: Path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    kernels = tmp_path / "kernels"
    spec = kernels / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "corpus-tools (test interpreter)",
        "language": "python",
        "env": {"CORPUS_TOOLS_BUILD": str(tmp_path / "build"), "MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }), encoding="utf-8")
    ksm = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, startup_timeout=120, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path: Path, tmp_path: Path):
    nb = _execute(path, tmp_path)
    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert not errors, errors
    pngs = [o for o in _outputs(nb) if "image/png" in o.get("data", {})]
    assert pngs, f"{path.name} produced no image/png output"
    if path.name == "topic_models.ipynb":
        assert any("送温暖" in t and "count_dedup" in t for t in _texts(nb)), \
            "the slogan table (with 送温暖 and count_dedup) is missing from the outputs"


def test_notebooks_are_committed_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    assert NOTEBOOKS, "no notebooks under notebooks/"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        dirty = [i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
        assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"

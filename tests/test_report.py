"""The HTML report (corpus_tools.report), its command, the config file and the progress display."""
from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from corpus_tools import ingest
from corpus_tools.cli import main

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SCRIPT_ESC = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG_ESC = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"

HEADINGS = ["The corpus at a glance", "What cleaning removed", "Documents per year and genre", "Section structure",
            "Theme frequencies", "Topic model", "Slogans", "Near-duplicate clusters", "Pages"]


def _hostile_page() -> str:
    return f"""{SCRIPT}工会工作总结{IMG}

2015年，我公司工会在上级工会的领导下，认真贯彻落实“{SCRIPT}”精神，坚持“{IMG}”的工作方针，积极开展送温暖活动，维护职工合法权益。

一、加强职工之家建设{SCRIPT}

工会积极推进厂务公开和民主管理，召开职代会两次，签订集体合同，开展劳动竞赛和技能比武，提高职工素质。{IMG}

二、存在的问题{SCRIPT}

部分职工参与工会活动不够积极，工会经费管理还需加强。“{SCRIPT}”

三、下一步工作打算

继续坚持以人为本，深入开展“{IMG}”活动，做好困难职工帮扶工作，组织文体活动，关心女职工权益。

某某公司工会
2015年12月
"""


@pytest.fixture(scope="module")
def report_corpus(tmp_path_factory) -> Path:
    """Seed pages + a hostile page (payloads in its name, title, headings and text)."""
    base = tmp_path_factory.mktemp("report")
    inp = base / "in"
    inp.mkdir()
    for f in sorted(RAW.iterdir()):
        if f.is_file():
            shutil.copy(f, inp / f.name)
    (inp / f'x{IMG}.txt').write_text(_hostile_page(), encoding="utf-8")
    out = base / "c"
    summary = ingest([str(inp)], out=out)
    assert summary.counts["ok"] >= 6
    return out


@pytest.fixture(scope="module")
def report_html(report_corpus) -> tuple[Path, str]:
    from corpus_tools.report import build_report

    path = build_report(report_corpus, quiet=True)
    return path, path.read_text(encoding="utf-8")


def test_report_is_written_where_expected(report_corpus, report_html):
    path, text = report_html
    assert path == report_corpus / "report.html"
    assert path.exists() and path.stat().st_size > 10_000
    assert text.startswith("<!DOCTYPE html>")


def test_report_has_no_script_and_escapes_payloads(report_html):
    _, text = report_html
    assert not re.search(r"<\s*script", text, re.I), "the report must not contain any script element"
    assert not re.search(r"<img[^>]*onerror", text, re.I)
    assert not re.search(r"\son\w+\s*=", re.sub(r">[^<]*<", "><", text)), "no event-handler attributes in tags"
    assert "javascript:" not in text.lower()
    assert SCRIPT_ESC in text
    assert IMG_ESC in text or IMG_ESC.replace("&quot;", "&#x27;") in text


def test_report_is_self_contained(report_html):
    _, text = report_html
    srcs = re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', text)
    assert len(srcs) >= 5, "expected the plots as images"
    assert re.findall(r"<img\b", text).__len__() == len(srcs)
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # nothing is fetched: no external URLs in src/href, no <link>, CSP forbids scripts
    for url in re.findall(r'\b(?:src|href)="([^"]*)"', text):
        assert url.startswith(("data:", "#")), url
    assert "<link" not in text.lower()
    import html

    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    assert csp and "default-src 'none'" in html.unescape(csp.group(1))
    assert "script-src" not in csp.group(1)
    # no JavaScript needed: there is none


def test_report_has_every_section(report_html):
    _, text = report_html
    h2 = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h2>(.*?)</h2>", text)]
    assert h2 == HEADINGS
    # on the seed corpus every analysis module is available
    assert "not available" not in text, re.findall(r'class="na">([^<]*)', text)


def test_report_content(report_corpus, report_html):
    import pandas as pd

    _, text = report_html
    pages = pd.read_parquet(report_corpus / "pages.parquet")
    # every page is listed, with its status
    pages_section = text.split('<section id="pages">', 1)[1]
    for src in pages["source"]:
        assert src.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") \
            in pages_section
    assert pages_section.count('class="st-ok"') == int((pages["status"] == "ok").sum())
    # cleaning rules by name
    removed = pd.read_parquet(report_corpus / "removed.parquet")
    top_reason = removed[removed["kind"] == "removed"]["reason"].value_counts().index[0]
    assert f">{top_reason}<" in text
    # sparse years: themes by genre, and it says so
    assert "shown per genre" in text


def test_report_degrades_when_an_analysis_fails(report_corpus, tmp_path, monkeypatch):
    import corpus_tools.analysis.topics as topics
    from corpus_tools.report import build_report

    def boom(*a, **k):
        raise RuntimeError("model exploded <b>")

    monkeypatch.setattr(topics, "fit_topics", boom)
    path = build_report(report_corpus, tmp_path / "r.html", quiet=True, embed_font=False)
    text = path.read_text(encoding="utf-8")
    topic_sec = text.split('<section id="topics">', 1)[1].split("</section>", 1)[0]
    assert "not available: RuntimeError: model exploded &lt;b&gt;" in topic_sec
    assert '<section id="pages">' in text and '<section id="slogans">' in text


def test_report_command(report_corpus, tmp_path, capsys):
    out = tmp_path / "sub" / "rep.html"
    rc = main(["report", str(report_corpus), "-o", str(out), "--quiet", "--no-embed-font", "--topics", "3"])
    assert rc == 0 and out.exists()
    assert "k=3" in out.read_text(encoding="utf-8")
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert main(["report", str(tmp_path)]) == 2           # exists, not a corpus
    assert main(["report", str(report_corpus), "--topics", "0"]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "not a corpus directory" in err


def test_report_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "corpus-tools report build/" in out


# --------------------------------------------------------------------------- headless browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not on PATH")
def test_report_renders_in_headless_chromium(report_html, tmp_path):
    path, _ = report_html
    url = path.resolve().as_uri()
    shot = tmp_path / "shot.png"
    r = subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'ud1'}", f"--screenshot={shot}",
                        "--window-size=1280,4000", url], capture_output=True, text=True, timeout=120)
    assert shot.exists(), r.stderr[-2000:]
    from PIL import Image

    im = Image.open(shot)
    assert im.size == (1280, 4000)
    colors = im.convert("RGB").resize((64, 200)).getcolors(64 * 200)
    assert colors is not None and len(colors) > 20, "screenshot looks blank"

    r = subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'ud2'}", "--enable-logging=stderr",
                        "--v=0", "--dump-dom", url], capture_output=True, text=True, timeout=120)
    dom = r.stdout
    assert '<section id="pages">' in dom, r.stderr[-2000:]
    # the payloads are text nodes, not elements
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "&gt;&lt;img src=x onerror=alert(1)&gt;" in dom
    assert not re.search(r"<script", dom, re.I)
    assert not re.search(r"<img[^>]*onerror", dom, re.I)
    # no console messages: no script ran, nothing was refused by the CSP
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
    assert not console, console


# --------------------------------------------------------------------------- config

def test_config_defaults_without_file(tmp_path, monkeypatch):
    from corpus_tools.config import DEFAULTS, load_config

    monkeypatch.chdir(tmp_path)
    cfg = load_config()
    assert cfg["_source"] is None
    assert {k: v for k, v in cfg.items() if k != "_source"} == DEFAULTS
    assert cfg["report"]["k_topics"] == 8 and cfg["ingest"]["template_min_pages"] == 3


def test_config_file_merges_and_validates(tmp_path, monkeypatch):
    from corpus_tools.config import ConfigError, load_config

    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus-tools.toml").write_text(
        '[report]\nk_topics = 5\n\n[ingest]\nmax_page_mb = 8\nboilerplate = "my.toml"\n', encoding="utf-8")
    cfg = load_config()
    assert cfg["report"]["k_topics"] == 5 and cfg["report"]["top_slogans"] == 30
    assert cfg["ingest"]["max_page_mb"] == 8.0 and cfg["ingest"]["boilerplate"] == "my.toml"
    assert cfg["_source"].endswith("corpus-tools.toml")
    bad = tmp_path / "bad.toml"
    for content, msg in [("[report]\nk_topic = 5\n", "unknown option [report] k_topic"),
                         ("[reports]\n", "unknown section [reports]"),
                         ("[report]\nk_topics = 'many'\n", "must be an integer"),
                         ("[export]\nformat = 'xml'\n", "must be one of"),
                         ("[report\n", "not valid TOML")]:
        bad.write_text(content, encoding="utf-8")
        with pytest.raises(ConfigError, match=re.escape(msg)):
            load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_config_example_and_docs_cover_every_option():
    import tomllib

    from corpus_tools.config import DEFAULTS, load_config

    example = ROOT / "corpus-tools.toml.example"
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    data = tomllib.loads(example.read_text(encoding="utf-8"))
    cfg = load_config(example)  # the example is valid
    for section, options in DEFAULTS.items():
        assert f"[{section}]" in doc
        for key in options:
            assert f"`{key}`" in doc, f"docs/config.md does not document [{section}] {key}"
            assert key in data.get(section, {}) or f"# {key} =" in example.read_text(encoding="utf-8"), key
    assert cfg["report"]["k_topics"] == DEFAULTS["report"]["k_topics"]


# --------------------------------------------------------------------------- progress

def test_progress_records_stages_and_is_silent_off_terminal():
    from corpus_tools.progress import Progress, format_summary

    buf = io.StringIO()  # not a terminal → no bars
    with Progress(file=buf) as p:
        cb = p.stage("ingest", 3)
        for i in range(1, 4):
            cb("ingest", i, 3)
        cb("sections", 1, 2)  # a second stage reported through the same callback
        with p.timed("report"):
            pass
    assert not p.enabled and buf.getvalue() == ""
    s = {d["stage"]: d for d in p.summary()}
    assert s["ingest"]["done"] == 3 and s["ingest"]["total"] == 3 and s["ingest"]["unit"] == "pages"
    assert s["sections"]["done"] == 1 and s["sections"]["total"] == 2
    assert list(s) == ["ingest", "sections", "report"]
    text = format_summary(p.summary())
    assert "ingest" in text and "3 pages" in text and "total" in text
    p.print_summary(buf)
    assert "report" in buf.getvalue()
    q = Progress(quiet=True, file=io.StringIO())
    with q:
        q.stage("x", 1)("x", 1, 1)
    out = io.StringIO()
    q.print_summary(out)
    assert out.getvalue() == ""


def test_progress_drives_ingest_and_tolerates_nesting(tmp_path):
    from corpus_tools.progress import Progress

    buf = io.StringIO()
    with Progress(file=buf, enabled=True) as outer:
        summary = ingest([str(RAW)], out=tmp_path / "c", progress=outer.stage("ingest"))
        inner_buf = io.StringIO()
        with Progress(file=inner_buf, enabled=True) as inner:  # nested: its bars join the outer display
            inner.stage("nested", 1)("nested", 1, 1)
        assert inner_buf.getvalue() == ""
    st = {d["stage"]: d for d in outer.summary()}
    assert st["ingest"]["done"] == st["ingest"]["total"] == len(summary.pages)
    assert {d["stage"] for d in inner.summary()} == {"nested"}
    assert "ingest" in buf.getvalue() and "nested" in buf.getvalue()
    with Progress(file=io.StringIO(), enabled=True) as again:  # the outer one is closed: draws its own
        assert again._rich is not None and again._owner


def test_report_shows_reused_results_without_recomputing(report_corpus, tmp_path, monkeypatch):
    """`corpus-tools run` hands the report its slogan table, clusters, topic model, document
    statistics and theme hits: the report shows them and computes none of them again; its
    themes and documents sections are the ones it computes itself."""
    import corpus_tools.analysis.slogans as slogans_mod
    import corpus_tools.analysis.stats as stats_mod
    import corpus_tools.analysis.themes as themes_mod
    import corpus_tools.analysis.topics as topics_mod
    import corpus_tools.export.dedup as dedup_mod
    from corpus_tools.report import build_report, render_report
    from corpus_tools.store import load_corpus

    ranked = slogans_mod.find_slogans(report_corpus)
    clusters = dedup_mod.near_duplicate_clusters(load_corpus(report_corpus).documents)
    model = topics_mod.fit_topics(report_corpus, k=3, seed=13, passes=1, coherence=False)
    ds = stats_mod.document_stats(report_corpus).drop(columns=["n_tokens", "n_types"])  # as `run` hands it
    hits = themes_mod.theme_hits(report_corpus)
    own = render_report(report_corpus, top_slogans=5, embed_font=False)[0]

    def section(page: str, name: str) -> str:
        return re.search(rf'<section id="{name}">.*?</section>', page, re.S).group()

    def boom(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr(slogans_mod, "find_slogans", boom)
    monkeypatch.setattr(topics_mod, "fit_topics", boom)
    monkeypatch.setattr(dedup_mod, "near_duplicate_clusters", boom)
    monkeypatch.setattr(stats_mod, "document_stats", boom)
    monkeypatch.setattr(themes_mod, "_hits_frame", boom)
    out = build_report(report_corpus, tmp_path / "r.html", quiet=True, top_slogans=5, embed_font=False, workers=2,
                       reuse={"slogans": ranked, "clusters": clusters, "topics": model, "doc_stats": ds,
                              "theme_args": {"lexicon": None, "extend": None, "hits": hits}})
    page = out.read_text(encoding="utf-8")
    for name in ("themes", "documents"):
        assert section(page, name) == section(own, name)
    assert "k=3" in page and "(analysis/topics.csv)" in page and "recomputed" not in page
    import html as html_mod

    shown = slogans_mod.select_top(ranked, 5).head(5)["slogan"]  # the rows the report's table lists
    missing = [s for s in shown if html_mod.escape(s) not in page]
    assert not missing, (missing, re.findall(r'<section id="slogans">.{0,400}', page, re.S))

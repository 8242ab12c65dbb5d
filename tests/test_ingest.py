"""Ingestion end to end on the real seed pages and reports."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from corpus_tools import ingest, load_corpus
from corpus_tools.ingest.tracked import reconstruct_raw

from conftest import RAW, ROOT


def test_documents_per_page(seed):
    pages = seed.pages.sort_values("source")
    assert list(pages["status"]) == ["ok"] * 5
    assert list(pages["n_documents"]) == [10, 5, 13, 5, 2]
    assert len(seed.documents) == 35


def test_no_boilerplate_survives(seed):
    text = "\n".join(seed.documents["text"])
    for junk in ["学习啦", "写写帮文库", "阿拉题库", "相关范文推荐", "声明:", "声明：", "-->", "页,当前第", "页，当前第",
                 "国产成人", "久久99", "小编", "下载本文", "复制下载", "点此处下载", "word格式", "希望对大家有所帮助",
                 "编辑提醒", "原创文秘网站", "—1—", "—6—", "2064107"]:
        assert junk not in text, junk
    # pinyin annotations are gone, genuine parentheses stay
    assert not re.search(r"[（(][a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*[)）]", text)
    assert "（一）" in text and "（精选）" not in text  # "(精选)" lived only in a separator line
    # "下载" survives only as genuine content (a teacher learning to download materials)
    assert all("下载资料" in ln for ln in text.split("\n") if "下载" in ln)


def test_traditional_page_converted(seed):
    from corpus_tools.ingest.convert import to_simplified

    import opencc

    t2s = opencc.OpenCC("t2s.json")
    for text in seed.documents["text"]:
        assert t2s.convert(text) == text
    page = seed.pages.set_index("source").loc["000_ed6fa4d5ef149a99.txt"]
    assert page["script"] == "traditional"
    doc = seed.documents[seed.documents.source == "000_ed6fa4d5ef149a99.txt"].iloc[0]
    assert doc["title"] == "工会创新工作心得体会"
    assert "创新" in doc["text"] and "着力加强" in doc["text"] and "著力" not in doc["text"]
    text000 = "\n".join(seed.documents[seed.documents.source == "000_ed6fa4d5ef149a99.txt"]["text"])
    assert "随着" in text000 and "随著" not in text000  # the particle: 著 → 着
    assert "显著" in text000  # zhù stays 著
    assert to_simplified("隨著時間，成績顯著") == "随着时间，成绩显著"


def test_simplified_pages_not_overconverted(reports_corpus_dir):
    from conftest import REPORTS

    text = "\n".join(load_corpus(reports_corpus_dir).documents["text"])
    raw = "".join(p.read_text(encoding="utf-8") for p in REPORTS.glob("*.txt"))
    # no 显著 is turned into 显着 (the sources carry two typos of their own)
    assert text.count("显著") == raw.count("显著") > 100 and text.count("显着") == raw.count("显着")


def test_simplified_page_keeps_words_opencc_phrases_would_rewrite():
    """OpenCC t2s rewrites phrases none of whose characters is traditional (打坏 → 打坯: 坏 is
    also an old form of 坯); on a simplified page only traditional-only characters change,
    on a traditional page t2s applies whole."""
    import importlib

    pipeline = importlib.import_module("corpus_tools.ingest.pipeline")
    simplified = ("他们不小心把设备打坏了，一好一坏，沈默片刻。\n一目瞭然，回覆如下。工会工作總結很好，"
                  "职工满意，会员发展、劳动竞赛、困难职工帮扶和民主管理工作都取得了新进展。")
    tt, facts = pipeline.clean_page(simplified)
    assert facts["script"] == "simplified"
    assert tt.text == simplified.replace("總結", "总结")  # a traditional remnant still converts
    traditional = "他們不小心把設備打壞了，回覆如下，一目瞭然。\n工會工作總結"
    tt, facts = pipeline.clean_page(traditional)
    assert facts["script"] == "traditional"
    assert tt.text == "他们不小心把设备打坏了，回复如下，一目了然。\n工会工作总结"


def _opencc_entries():
    """(key, first value) of every entry of the dictionaries t2s uses, dumped with the
    wheel's own opencc_dict (skipped when the wheel has none)."""
    import subprocess
    import tempfile
    from pathlib import Path

    import opencc

    clib = Path(opencc.__file__).parent / "clib"
    tool = clib / "bin" / "opencc_dict"
    if not tool.exists():
        pytest.skip("this OpenCC wheel has no opencc_dict")
    names = ("CJK_Compatibility_Ideographs", "TSPhrases", "TSCharactersExt", "TSCharacters")
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.txt"
            subprocess.run([str(tool), "-i", str(clib / "share" / "opencc" / f"{name}.ocd2"), "-o", str(out),
                            "-f", "ocd2", "-t", "text"], check=True, capture_output=True)
            for line in out.read_text(encoding="utf-8").splitlines():
                key, values = line.split("\t")
                entries.append((key, values.split(" ")[0]))
    assert len(entries) > 5000
    return entries


def test_simplified_pages_convert_only_lines_with_traditional_characters():
    """On a simplified page OpenCC runs only over lines holding a traditional-only character
    (or one beyond the BMP). Exact because no t2s entry without such a character changes
    the length of what it matches (so keep_simplified undoes all its changes), and the
    result equals converting the whole page and undoing."""
    import importlib

    import numpy as np

    convert = importlib.import_module("corpus_tools.ingest.convert")
    trad, _ = convert._script_tables()

    def flagged(c: str) -> bool:
        return ord(c) >= 0x10000 or bool(trad[ord(c)])

    entries = _opencc_entries()
    plain = [(k, v) for k, v in entries if v != k and not any(flagged(c) for c in k)]
    assert len(plain) > 100  # the phrases keep_simplified undoes (深沈 → 深沉, 打坏 → 打坯 ...)
    assert all(len(k) == len(v) for k, v in plain), [(k, v) for k, v in plain if len(k) != len(v)][:5]
    rng = np.random.default_rng(3)
    pool = list("工会职工劳动竞赛，。\n 　") + [k for k, _ in plain] + ["總結", "𠀾", "著名", "\n\n"]
    for _ in range(300):
        text = "".join(rng.choice(pool) for _ in range(rng.integers(0, 60)))
        whole = convert.to_simplified(text, particle_zhe=False)
        if len(whole) == len(text):
            whole = convert.keep_simplified(text, whole)
        lines = convert._simplified_lines(text)
        if len(lines) == len(text):
            lines = convert.keep_simplified(text, lines)
        assert lines == whole, repr(text)
    assert convert._simplified_lines("工会工作\n深沈") == "工会工作\n深沈"  # no traditional line: untouched


def test_mojibake_repaired(seed):
    text = "\n".join(seed.documents[seed.documents.source.str.startswith("000")]["text"])
    assert "带薪休假、生产一线" in text  # ?shù)膸…⑸a(chǎn) repaired
    assert "现代社会是信息化的" in text  # ?,F(xiàn)代 repaired
    assert "在听李强教授的演讲过程中" in text
    assert not any(0xE000 <= ord(c) <= 0xF8FF for c in text)


def test_link_keywords_rejoined_not_dropped(seed):
    text = "\n".join(seed.documents["text"])
    assert "优秀论文、优秀教案、课题研究" in text
    assert "签订了劳动合同。经过一年的运作" in text
    assert "利用黑板报、宣传窗等形式" in text


def test_spacing_quotes_hyphens(seed):
    text = "\n".join(seed.documents["text"])
    assert "商务分工会工作展示" in text
    assert "送温暖活动" in text and "送温 暖" not in text
    assert "民主管理为导向" in text and "民-主" not in text
    assert "和谐企业" in text and "和-谐" not in text
    assert "“集体维权”" in text and "‚" not in text and "‛" not in text
    assert "“十分钟思想教育”" in text and "“六个十”" in text
    # real semicolons survive
    assert "；四是针对不同群体职工" in text


def test_titles_signoffs_years(seed):
    d = seed.documents.set_index("doc_id")
    by_src = seed.documents.groupby("source")
    p001 = by_src.get_group("001_4b00652013934447.txt").sort_values("index")
    assert p001["title"].iloc[0] == "关于做好工会工作改革创新的心得体会"
    assert p001["signoff"].iloc[-1] == "荆州市中心医院工会\n二00五年四月六日"
    assert p001["year"].iloc[-1] == 2005
    assert "二00五年四月六日" not in p001["text"].iloc[-1]
    # the repeated title line is collapsed
    assert not p001["text"].iloc[0].startswith("关于做好工会工作改革创新的心得体会")
    p003 = by_src.get_group("003_4c2649a13eb03a43.txt").sort_values("index")
    assert p003["signoff"].iloc[-1] == "临汾清筛二车间工会\n2016年7月8日" and p003["year"].iloc[-1] == 2016
    p004 = by_src.get_group("004_6692e6bfb66615bd.txt")
    assert set(p004["title"]) == {"工会工作亮点做法"}
    assert d is not None


def test_announced_and_truncated(seed):
    pages = seed.pages.set_index("source")
    assert pages.loc["004_6692e6bfb66615bd.txt", "announced_documents"] == 5
    assert bool(pages.loc["004_6692e6bfb66615bd.txt", "truncated"])
    assert pages.loc["000_ed6fa4d5ef149a99.txt", "announced_documents"] == 10
    assert not bool(pages.loc["000_ed6fa4d5ef149a99.txt", "truncated"])


def test_placeholders_counted(seed):
    d = seed.documents
    assert d["n_placeholders"].sum() > 20
    assert (d.loc[d.text.str.contains("xx年"), "n_placeholders"] > 0).all()


def test_raw_reconstruction_from_outputs(seed):
    """documents (in order) + removed.parquet rebuild every raw page exactly."""
    for page in seed.pages.itertuples():
        raw = (RAW / page.source).read_text(encoding="utf-8")
        docs = seed.documents[seed.documents.page_id == page.page_id].sort_values("index")
        clean = "".join(docs["text"])
        rows = seed.removed[seed.removed.page_id == page.page_id].to_dict("records")
        assert reconstruct_raw(clean, rows) == raw, page.source
        for doc in docs.itertuples():
            assert 0 <= doc.raw_start < doc.raw_end <= len(raw)


def test_removed_logged_with_rules(seed):
    r = seed.removed
    reasons = set(r["reason"])
    for rule in ["spam_keywords", "breadcrumb", "metadata", "collection_intro", "download_prompt",
                 "copyright_notice", "related_articles", "pagination", "page_number", "html_remnant",
                 "trailing_counter", "pinyin_annotation", "mojibake", "private_use_glyph", "link_rejoin",
                 "essay_separator", "signoff", "opencc", "punctuation", "quote_marks"]:
        assert rule in reasons, rule
    raw = (RAW / "000_ed6fa4d5ef149a99.txt").read_text(encoding="utf-8")
    pid = r.merge(load_pages := seed.pages, on="page_id").query("source == '000_ed6fa4d5ef149a99.txt'")
    for row in pid.itertuples():
        assert raw[row.raw_start:row.raw_end] == row.text


def test_idempotent(seed, tmp_path):
    """Ingesting already-clean documents changes nothing."""
    src = tmp_path / "clean"
    src.mkdir()
    docs = seed.documents
    for doc in docs.itertuples():
        (src / f"{doc.doc_id}.txt").write_text(doc.text, encoding="utf-8")
    ingest([src], tmp_path / "again", learn_templates=False)
    again = load_corpus(tmp_path / "again").documents
    assert len(again) == len(docs)
    by_source = dict(zip(again["source"], again["text"]))
    for doc in docs.itertuples():
        assert by_source[f"{doc.doc_id}.txt"] == doc.text, doc.doc_id


def test_input_order_and_rerun_deterministic(tmp_path):
    files = sorted(RAW.glob("*.txt"))
    ingest(files, tmp_path / "a")
    ingest(list(reversed(files)), tmp_path / "b", resume=False)
    ingest(files, tmp_path / "a")  # re-run over existing output: resumes, same bytes
    for name in ["pages.parquet", "documents.parquet", "removed.parquet", "manifest.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_reports_one_document_each(reports_corpus_dir):
    c = load_corpus(reports_corpus_dir)
    assert (c.pages["n_documents"] == 1).all() and len(c.pages) == 39
    assert "index.jsonl" in json.loads((reports_corpus_dir / "manifest.json").read_text())["skipped_files"]
    text = "\n".join(c.documents["text"])
    for junk in ["本作品是中华人民共和国的", "公有领域", "Public domain", "维基文库", "\u200b"]:
        assert junk not in text, junk
    gwr = c.documents[c.documents.source.str.startswith("gwr_")]
    with_year = gwr["year"].notna().mean()
    assert with_year >= 0.75, with_year
    d = c.documents.set_index("source")
    assert d.loc["gwr_2023.txt", "year"] == 2023 and d.loc["gwr_2022.txt", "year"] == 2022
    assert d.loc["gwr_2023.txt", "text"].startswith("政府工作报告\n——2023年3月5日")
    assert "李克强" in d.loc["gwr_2023.txt", "text"][:200]


def test_cli_ingest_summary_and_exit_codes(tmp_path):
    exe = [sys.executable, "-m", "corpus_tools.cli"]
    res = subprocess.run(exe + ["ingest", str(RAW), "-o", str(tmp_path / "c")], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "documents per page: 10, 5, 13, 5, 2" in res.stdout
    res = subprocess.run(exe + ["ingest", str(tmp_path / "missing"), "-o", str(tmp_path / "x")], capture_output=True,
                         text=True, cwd=ROOT)
    assert res.returncode == 2 and "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = subprocess.run(exe + ["ingest", "--bogus"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_strict_fails_on_empty_pages(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "a.txt").write_text((RAW / "001_4b00652013934447.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (inp / "empty.txt").write_text("   \n", encoding="utf-8")
    exe = [sys.executable, "-m", "corpus_tools.cli", "ingest", str(inp), "-q"]
    assert subprocess.run(exe + ["-o", str(tmp_path / "o1")], cwd=ROOT).returncode == 0
    assert subprocess.run(exe + ["-o", str(tmp_path / "o2"), "--strict"], cwd=ROOT).returncode == 1


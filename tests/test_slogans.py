"""Slogans and formulas (corpus_tools.analysis.slogans)."""
from __future__ import annotations

import pandas as pd

from corpus_tools.analysis.slogans import (
    find_slogans, is_numeric_formula, parse_enumeration, slogan_timeline,
)
from corpus_tools.cli import main
from test_dedup import reports_corpus, seed_corpus, seed_documents  # noqa: F401  (fixtures)


def test_grammar():
    assert parse_enumeration("形成了比、学、赶、帮、超的浓厚") == ("比", "学", "赶", "帮", "超")
    assert parse_enumeration("讲政治、有本事、肯实干、能自律") == ("讲政治", "有本事", "肯实干", "能自律")
    assert parse_enumeration("春游、夏日") is None
    for s in ("三个代表", "四有", "五小", "四个现代化", "五建五促", "八荣八耻", "六个十", "两个走近"):
        assert is_numeric_formula(s), s
    for s in ("三年", "十分", "二是"):
        assert not is_numeric_formula(s), s


def test_seed_top50(seed_corpus):
    top = find_slogans(seed_corpus, top=50)
    assert len(top) >= 40
    have = set(top["slogan"])
    for s in ("送温暖", "职工之家", "三个代表", "比学赶帮超", "工人先锋号", "五小"):
        assert s in have, s
    assert set(top["kind"]) >= {"quoted", "numeric", "enumeration", "mwe"}
    row = top.set_index("slogan").loc["比学赶帮超"]
    assert row["kind"] == "enumeration" and "比、学、赶、帮、超" in row["contexts"]


def test_near_duplicates_counted_raw_and_dedup(seed_corpus):
    docs = seed_documents(seed_corpus)
    p3 = docs[docs["source"].str.startswith("003")].sort_values("index")["doc_id"].tolist()
    res = find_slogans(docs, min_documents=1, kinds=("quoted", "numeric")).set_index("slogan")
    # “四抓” is in page 003's first essay once and twice in its near-copy (spliced second version)
    row = res.loc["四抓"]
    per_doc = {d: docs.set_index("doc_id").loc[d, "text"].count("“四抓”") for d in p3[:2]}
    assert row["count"] == sum(per_doc.values()) == 3
    assert row["n_documents"] == 2 and row["n_clusters"] == 1
    assert row["count_dedup"] == max(per_doc.values()) == 2
    assert (res["count_dedup"] <= res["count"]).all()
    # without the cluster information both essays count in full
    solo = pd.DataFrame({"doc_id": docs["doc_id"], "cluster_id": docs["doc_id"]})
    raw = find_slogans(docs, min_documents=1, kinds=("quoted", "numeric"), clusters=solo).set_index("slogan")
    assert raw.loc["四抓", "count_dedup"] == 3


def test_reports_timeline(reports_corpus):
    res = find_slogans(reports_corpus, kinds=("quoted", "numeric", "enumeration")).set_index("slogan")
    assert res.loc["三个代表", "first_year"] >= 2000
    assert res.loc["四个现代化", "first_year"] < 1990
    tl = slogan_timeline(reports_corpus, slogans=["四个现代化", "三个代表", "科学发展观"])
    assert list(tl.columns) == ["year", "slogan", "count", "per_10k_chars"]
    piv = tl.pivot(index="year", columns="slogan", values="count")
    assert piv.loc[piv.index < 1990, "四个现代化"].sum() > 0
    assert piv.loc[piv.index < 2000, "三个代表"].sum() == 0
    assert piv.loc[piv.index < 2003, "科学发展观"].sum() == 0 and piv["科学发展观"].sum() > 0
    # appears and fades: 四个现代化 is rarer per character after 2010 than before 1990
    rate = tl.pivot(index="year", columns="slogan", values="per_10k_chars")
    assert rate.loc[rate.index < 1990, "四个现代化"].mean() > rate.loc[rate.index > 2010, "四个现代化"].mean()


def test_cli(seed_corpus, tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["slogans", str(seed_corpus), "--top", "20", "--kinds", "quoted,numeric", "-o", str(out)]) == 0
    df = pd.read_csv(out)
    assert "三个代表" in set(df["slogan"])
    assert main(["slogans", str(seed_corpus), "--kinds", "bogus"]) == 2


def test_select_top_cuts_the_full_table(seed_corpus):
    """`corpus-tools run` computes the full table once and cuts the analysis' and the
    report's rows from it: the same rows as asking find_slogans for them."""
    from corpus_tools.analysis.slogans import select_top

    ranked = find_slogans(seed_corpus)
    for top in (10, 30, 50):
        assert select_top(ranked, top).equals(find_slogans(seed_corpus, top=top))


def test_automaton_counts_like_the_regexes(seed_corpus, reports_corpus):
    """One Aho-Corasick pass per text over all one-string candidates (the squeezed text:
    lone whitespace deleted, longer runs kept as a barrier) gives the spans each candidate's
    regex finds, on the seeds, the reports and whitespace/quote/numeral edge cases."""
    from corpus_tools.analysis.slogans import _Cand, _count_with_automaton, _squeeze, _unsqueeze

    texts = list(seed_documents(seed_corpus)["text"]) + list(seed_documents(reports_corpus)["text"])[:8] + [
        "送 温暖 送\n温\u3000暖 送  温暖 送温\n\n暖“ 送 温 暖 ”“送温暖”十三个代表 三个 代表",
        " 职工之家\t职工 之家  职工之家", "", "\n\n", "哈哈哈哈“哈哈”“ 哈哈哈”", "五小五小“五小”二十五小",
    ]
    cands = {c.slogan: c for c in (
        _Cand("送温暖", "quoted", quoted_only=True), _Cand("三个代表", "numeric"), _Cand("五小", "numeric"),
        _Cand("哈哈", "quoted", quoted_only=True), _Cand("职工之家", "mwe"), _Cand("工会", "mwe"),
        _Cand("送温暖活动", "known", known=True), _Cand("哈哈哈", "mwe"))}
    got: dict = {}
    _count_with_automaton(texts, cands, lambda s, i, hits: got.setdefault(s, {}).__setitem__(i, hits))
    for s, c in cands.items():
        want = {i: [m.span() for m in c.pattern().finditer(t)] for i, t in enumerate(texts)}
        assert got.get(s, {}) == {i: v for i, v in want.items() if v}, s
    text = " a  b\tc\n\n\nd"
    sq, after, removed = _squeeze(text)
    assert sq == "a\x00bc\x00d"
    assert [text[_unsqueeze(q, after, removed)] for q in (0, 2, 3, 5)] == list("abcd")


def test_timeline_counts_are_the_regex_counts_and_default_slogans_work(reports_corpus, capsys):
    """slogan_timeline counts in one pass per text (the automaton) what each slogan's
    pattern finds with findall, per year; with no slogans given it picks the known ones and
    the best found (that path used to fail on its own unit table), also from the CLI."""
    from corpus_tools.analysis.slogans import _Cand
    from corpus_tools.analysis.units import as_units

    units = as_units(reports_corpus)
    ranked = find_slogans(reports_corpus, kinds=("quoted", "numeric", "enumeration"))
    tl = slogan_timeline(reports_corpus, slogans=ranked.head(15))
    assert set(tl["slogan"]) == set(ranked.head(15)["slogan"])
    for r in ranked.head(15).itertuples():
        cand = _Cand(r.slogan, r.kind, quoted_only=r.kind == "quoted" and not r.known,
                     items=tuple(r.slogan) if r.kind == "enumeration" and len(r.slogan) <= 8 else None)
        want = units.dropna(subset=["year"]).groupby("year")["text"].apply(
            lambda ts: sum(len(cand.pattern().findall(t)) for t in ts))
        got = tl[tl["slogan"] == r.slogan].set_index("year")["count"]
        assert got.to_dict() == {int(y): int(n) for y, n in want.items()}, r.slogan
    default = slogan_timeline(reports_corpus)
    assert {"三个代表", "四个现代化"} <= set(default["slogan"])
    assert main(["slogans", str(reports_corpus), "--timeline"]) == 0
    assert "三个代表" in capsys.readouterr().out


def test_edge_entropy_counts_each_edge_as_its_own_context():
    """Numeric discovery keeps edge occurrences (no right character) as weights so that
    chunks merge; the entropy equals the one over distinct placeholder contexts."""
    import random
    from collections import Counter

    import corpus_tools.analysis.slogans as sl

    rng = random.Random(3)
    for _ in range(500):
        right = Counter({c: rng.randint(1, 5) for c in rng.sample("工会职工组织建设", rng.randint(0, 5))})
        n1, n2 = rng.randint(0, 4), rng.randint(0, 3)
        distinct = Counter(right)
        for k in range(n1):
            distinct[f"#a{k}"] = 1
        for k in range(n2):
            distinct[f"#b{k}"] = 2
        assert abs(sl._edge_entropy(right, n1, n2) - sl._entropy(distinct)) < 1e-9


def test_counting_in_chunks_on_workers_gives_the_same_table(reports_corpus, monkeypatch):
    """find_slogans discovers (quoted, numeric, enumerations) and counts the candidates a
    chunk of texts per task; with tiny chunks on 2 processes, by document and by section (a
    document's sections span chunk boundaries, so the contexts taken from distinct documents
    are merged across chunks), the tables are those of one process in one chunk."""
    import corpus_tools.analysis.slogans as sl

    for unit, chunk in (("document", 7), ("section", 7), ("section", 60)):
        one = find_slogans(reports_corpus, unit=unit, min_documents=1, kinds=("quoted", "numeric", "enumeration"))
        monkeypatch.setattr(sl, "COUNT_CHUNK", chunk)
        two = find_slogans(reports_corpus, unit=unit, min_documents=1, kinds=("quoted", "numeric", "enumeration"),
                           workers=2)
        monkeypatch.setattr(sl, "COUNT_CHUNK", 100_000)
        pd.testing.assert_frame_equal(one, two)
        assert len(one) > 20 and one["contexts"].str.len().gt(0).all()

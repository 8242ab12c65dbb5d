"""Generate hostile input files at test time (nothing binary is committed).

:func:`make_cases` writes every case into a folder and returns :class:`Case` records that
say what the ingester must do with each file (status, words the one-line reason must
contain). Seed-derived copies (other encodings) are made so that no seed line occurs in
three or more pages of a run: cross-page template learning then learns nothing from them,
and the seeds' own output must be the same with or without the hostile files.

Text that is not a seed copy comes from :func:`novel_text`, a deterministic generator of
report-like Chinese paragraphs whose lines are longer than the template key limit (50
characters), so they never become template lines either.
"""
from __future__ import annotations

import os
import random
import re
import stat
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = REPO / "data" / "raw"

#: default size of the single-line page; 50 MB with CORPUS_TOOLS_HUGE=1
HUGE_DEFAULT = 8 * 2**20
HUGE_FULL = 50 * 10**6


def huge_size() -> int:
    return HUGE_FULL if os.environ.get("CORPUS_TOOLS_HUGE") == "1" else HUGE_DEFAULT


def seeds() -> dict[str, Path]:
    """Seed pages by their three-digit prefix ('000' … '004')."""
    return {p.name[:3]: p for p in sorted(SEED_DIR.glob("*.txt"))}


def seed_text(key: str) -> str:
    return seeds()[key].read_text(encoding="utf-8")


@dataclass
class Case:
    name: str  # short id used in test ids and in docs/reliability.md
    path: bytes  # absolute path (bytes: some names are not valid UTF-8)
    statuses: tuple[str, ...]  # acceptable page statuses
    reason: tuple[str, ...] = ()  # the error must contain one of these (case-insensitive)
    seed: str | None = None  # seed key whose documents this copy must reproduce
    similarity: float = 1.0  # 1.0 = identical document texts
    phrases: tuple[str, ...] = ()  # must appear in the decoded (simplified) text
    absent: tuple[str, ...] = ()  # must not appear in any document
    encoding: str | None = None  # expected prefix of pages.encoding
    note: str = ""
    in_pages: bool = True  # False: not a file, must not appear at all
    root_skip: bool = False  # expectation does not hold when running as root

    def source(self, root: Path) -> str:
        """The ``source`` value discover() gives this file under input root ``root``."""
        rel = Path(os.fsdecode(self.path)).relative_to(root).as_posix()
        try:
            from corpus_tools.ingest.sources import storable_name
        except ImportError:  # pragma: no cover - older pipeline
            return rel
        return storable_name(rel)


# ----------------------------------------------------------------------------- novel text
_WORDS = ("工会", "职工", "组织", "开展", "活动", "加强", "建设", "坚持", "服务", "发展", "提高", "素质",
          "民主", "管理", "维护", "权益", "会员", "基层", "企业", "学校", "教师", "文化", "健康", "安全",
          "培训", "技能", "竞赛", "帮扶", "困难", "慰问", "制度", "落实", "推进", "创新", "机制", "队伍",
          "作风", "思想", "学习", "宣传", "教育", "和谐", "劳动", "关系", "协商", "合同", "监督", "考核",
          "年度", "计划", "目标", "任务", "措施", "成效", "经验", "问题", "改进", "全面", "深入", "积极")


def novel_text(label: str, paragraphs: int = 6) -> str:
    """Deterministic report-like text: a title line then paragraphs of 60+ characters."""
    rng = random.Random(label)
    lines = [f"{label}专题报告"]
    for _ in range(paragraphs):
        sents = []
        for _ in range(rng.randint(3, 5)):
            a = "".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 6)))
            b = "".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 6)))
            sents.append(f"{a}，{b}。")
        lines.append("".join(sents))
    return "\n".join(lines) + "\n"


def _s2t(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t.json").convert(text)


_TONE_PINYIN = re.compile(r"[(（][a-zü]{0,6}[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ][a-zü]{0,6}[)）]")


def big5_source_text() -> str:
    """Seed 000 (traditional) without its tone-marked pinyin annotations, which have no Big5
    form (a real Big5 page cannot carry them; the cleaner removes them from the seed)."""
    return _TONE_PINYIN.sub("", seed_text("000"))


# ----------------------------------------------------------------------------- writers
def _write(path: bytes, data: bytes) -> bytes:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def _junk(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def make_cases(folder: Path, outside: Path | None = None, huge_bytes: int | None = None,
               non_utf8_names: bool = True) -> list[Case]:
    """Write the hostile files into ``folder`` (created) and return their expectations.
    ``outside`` holds the target of the symlink that points out of the input folder;
    ``non_utf8_names=False`` leaves out the file whose name is GBK bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    outside = Path(outside) if outside else folder.parent / (folder.name + "-outside")
    outside.mkdir(parents=True, exist_ok=True)
    huge_bytes = huge_bytes or huge_size()
    d = os.fsencode(folder)
    P = lambda name: os.path.join(d, os.fsencode(name) if isinstance(name, str) else name)  # noqa: E731
    cases: list[Case] = []

    # --- wrong declared encoding: HTML says utf-8, bytes are GBK (seed 004 split into paragraphs)
    s004 = seed_text("004").replace("‚", "“").replace("‛", "”")
    paras = [p + "。" for p in s004.split("。") if p.strip()]
    body = "\n".join(f"<p>{''.join(paras[i:i + 4])}</p>" for i in range(0, len(paras), 4))
    html = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>工会工作亮点做法</title></head>'
            f"<body><article>{body}</article></body></html>")
    cases.append(Case("wrong_declared_charset", _write(P("wrong_charset_gbk.html"), html.encode("gbk")),
                      ("ok",), phrases=("国有企业工会面临形势的新变化",), encoding="gb",
                      note='<meta charset="utf-8"> but GBK bytes'))

    # --- other encodings of seed pages (one copy per seed: no line reaches 3 pages)
    cases.append(Case("gb18030_copy", _write(P("enc/gb18030_001.txt"), seed_text("001").encode("gb18030")),
                      ("ok",), seed="001", encoding="gb18030"))
    cases.append(Case("big5_copy", _write(P("enc/big5_000.txt"), big5_source_text().encode("big5", errors="ignore")),
                      ("ok",), seed="000", similarity=0.95, encoding="big5",
                      note="seed 000 without tone-marked pinyin; characters without a Big5 form dropped"))
    cases.append(Case("utf16le_bom_copy", _write(P("enc/utf16le_bom_002.txt"), seed_text("002").encode("utf-16")),
                      ("ok",), seed="002", encoding="utf-16"))
    cases.append(Case("utf16le_nobom_copy", _write(P("enc/utf16le_nobom_003.txt"), seed_text("003").encode("utf-16-le")),
                      ("ok",), seed="003", encoding="utf-16"))
    cases.append(Case("utf16be_nobom_copy", _write(P("enc/utf16be_nobom_004.txt"), seed_text("004").encode("utf-16-be")),
                      ("ok",), seed="004", encoding="utf-16"))

    # --- mixed encodings in one file: Big5 body, GBK footer
    body_t = _s2t(novel_text("混合编码正文", 5))
    footer = "本页由基层工会宣传委员负责维护更新，欢迎广大会员积极投稿反映职工群众的意见和建议，我们将认真研究及时答复。\n"
    data = body_t.encode("big5", errors="ignore") + footer.encode("gbk")
    cases.append(Case("mixed_big5_gbk", _write(P("mixed_big5_gbk_footer.txt"), data), ("ok",),
                      phrases=("混合编码正文专题报告", "基层工会宣传委员负责维护"), encoding="mixed",
                      note="Big5 body lines + GBK footer line"))

    # --- invalid UTF-8 sequences inside otherwise UTF-8 text
    t = novel_text("无效字节").encode("utf-8")
    lines = t.split(b"\n")
    lines[2] = lines[2][:30] + b"\xff\xfe" + lines[2][30:]
    lines[4] = lines[4][:21] + b"\xe4\xb8" + lines[4][21:]  # truncated 3-byte sequence
    lines[5] = b"\xc3\x28" + lines[5]
    cases.append(Case("invalid_utf8", _write(P("invalid_utf8.txt"), b"\n".join(lines)), ("ok",),
                      phrases=("无效字节专题报告",), note="3 invalid sequences in UTF-8 text"))

    # --- NUL bytes inside text
    t = novel_text("空字符").encode("utf-8")
    data = b"\x00".join(t[i:i + 90] for i in range(0, len(t), 90))
    cases.append(Case("nul_bytes", _write(P("nul_bytes.txt"), data), ("error",), reason=("NUL",)))

    # --- binaries renamed .txt
    cases.append(Case("pdf_as_txt", _write(P("report.pdf.txt"), b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + _junk(4000, 1)),
                      ("error",), reason=("binary", "PDF")))
    cases.append(Case("png_as_txt", _write(P("photo.png.txt"), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _junk(4000, 2)),
                      ("error",), reason=("binary", "PNG")))
    cases.append(Case("random_bytes", _write(P("random.txt"), bytes(b | 0x80 for b in _junk(6000, 3))),
                      ("error",), reason=("undecodable", "binary"), note="6 kB of random high bytes"))

    # --- empty and whitespace-only
    cases.append(Case("zero_bytes", _write(P("empty.txt"), b""), ("empty",)))
    cases.append(Case("whitespace_only", _write(P("whitespace.txt"), " \n\t\r\n\u3000\u3000 \n\n".encode()),
                      ("empty",)))

    # --- a huge page without line breaks (seed text repeated)
    unit = "".join(seed_text(k).replace("\n", "") for k in sorted(seeds())).encode("utf-8")
    reps = huge_bytes // len(unit) + 1
    data = (unit * reps)[:huge_bytes]
    data = data.decode("utf-8", errors="ignore").encode("utf-8")  # cut on a character boundary
    big = huge_bytes > HUGE_DEFAULT  # 50 MB may run into max_page_seconds on a slow machine
    cases.append(Case("huge_one_line", _write(P("huge_one_line.txt"), data), ("ok", "error") if big else ("ok",),
                      reason=("max_page_seconds",), note=f"{len(data) / 2**20:.0f} MiB, no line breaks"))
    del data, unit

    # --- 100,000 one-character lines
    chars = "".join(c for c in novel_text("单字行", 30) if "\u4e00" <= c <= "\u9fff")
    lines = (chars * (100_000 // len(chars) + 1))[:100_000]
    cases.append(Case("one_char_lines", _write(P("one_char_lines.txt"), "\n".join(lines).encode()), ("ok", "empty"),
                      note="100,000 lines of one character"))

    # --- only boilerplate
    bp = ("声明：本文内容由互联网用户自发贡献自行上传，本网站不拥有所有权，如发现涉嫌侵权内容请联系删除。\n"
          "版权所有 © 2012-2020 某某范文网 All Rights Reserved\n"
          "点此处下载文档\n"
          "下载本文word格式文档\n"
          "上一篇：工会工作计划\n"
          "下一篇：工会工作总结\n"
          "当前位置：首页 > 范文大全 > 工会工作\n"
          "浏览次数：1024\n")
    cases.append(Case("boilerplate_only", _write(P("boilerplate_only.txt"), bp.encode()), ("empty",),
                      reason=("boilerplate",), note="copyright, download, navigation, metadata lines"))

    # --- HTML with scripts, styles, comments
    paras = novel_text("网页脚本", 5).strip().split("\n")
    html = ("<html><head><meta charset='utf-8'><title>网页脚本</title>"
            "<style>body { color: red; } .秘密样式 { display:none }</style>"
            "<script>var 秘密脚本 = '<p>脚本里的段落</p>'; function f(){ return 1 < 2 && 3 > 2; }</script></head>"
            "<body><!-- 注释里的秘密 <p>注释段落</p> -->"
            + "".join(f"<p>{p}</p><script>document.write('脚本输出')</script>" for p in paras)
            + "<noscript>请启用脚本</noscript></body></html>")
    cases.append(Case("html_scripts_styles", _write(P("scripts_styles.html"), html.encode()), ("ok",),
                      phrases=(paras[1][:20],), absent=("秘密脚本", "脚本里的段落", "秘密样式", "注释", "脚本输出",
                                                        "color", "function", "document.write"),
                      note="<script>, <style>, <!-- --> and <noscript> content"))

    # --- deeply nested HTML
    paras = novel_text("深层嵌套", 4).strip().split("\n")
    depth = 5000
    html = ("<html><body>" + "<div>" * depth + "".join(f"<p>{p}</p>" for p in paras) + "</div>" * depth
            + "</body></html>")
    cases.append(Case("nested_divs", _write(P("nested_5000_divs.html"), html.encode()), ("ok", "error"),
                      reason=("limit", "depth", "recursion"), phrases=("深层嵌套专题报告",),
                      note=f"{depth} nested <div>"))

    # --- symlinks
    target = outside / "link_target.txt"
    target.write_text(novel_text("链接目标"), encoding="utf-8")
    os.symlink(target, P("symlink_to_outside.txt"))
    cases.append(Case("symlink", P("symlink_to_outside.txt"), ("ok",), phrases=("链接目标专题报告",),
                      note="symbolic link to a file outside the input folder (followed)"))
    os.symlink(os.path.join(d, b"does-not-exist.txt"), P("broken_link.txt"))
    cases.append(Case("broken_symlink", P("broken_link.txt"), ("error",), reason=("broken", "link")))
    os.symlink(P("self_loop.txt"), P("self_loop.txt"))
    cases.append(Case("symlink_loop", P("self_loop.txt"), ("error",), reason=("link", "loop")))
    os.symlink(d, P("dir_loop"))  # a directory symlink to its parent: not followed
    cases.append(Case("dir_symlink_loop", P("dir_loop"), (), in_pages=False,
                      note="directory symlink to the input folder (not followed)"))

    # --- a FIFO (reading would block forever)
    if hasattr(os, "mkfifo"):
        os.mkfifo(P("named_pipe.txt"))
        cases.append(Case("fifo", P("named_pipe.txt"), ("error",), reason=("not a regular file",)))

    # --- unreadable file
    p = _write(P("unreadable.txt"), novel_text("不可读").encode())
    os.chmod(p, 0)
    cases.append(Case("unreadable", p, ("error",), reason=("permission",), root_skip=True,
                      note="chmod 000 (readable anyway when run as root)"))

    # --- file names: GBK bytes, spaces
    if non_utf8_names:
        cases.append(make_gbk_name_case(folder))
    cases.append(Case("name_with_spaces", _write(P("工会 工作 总结 (final) .txt"), novel_text("空格文件名").encode()),
                      ("ok",), phrases=("空格文件名专题报告",)))
    return cases


def make_gbk_name_case(folder: Path) -> Case:
    """A page whose file name is GBK bytes (not valid UTF-8 on a UTF-8 file system)."""
    path = os.path.join(os.fsencode(folder), "工会报告 二〇一〇.txt".encode("gbk"))
    return Case("gbk_bytes_name", _write(path, novel_text("国标文件名").encode()), ("ok",),
                phrases=("国标文件名专题报告",), note="file name in GBK bytes (not valid UTF-8)")


def restore_permissions(cases: list[Case]) -> None:
    """Make chmod-000 files removable again (pytest's tmp cleanup)."""
    for c in cases:
        try:
            if not os.path.islink(c.path) and os.path.isfile(c.path):
                os.chmod(c.path, stat.S_IRUSR | stat.S_IWUSR)
        except OSError:
            pass


def copy_seeds(folder: Path) -> dict[str, Path]:
    """Byte copies of the seed pages in ``folder``; returns key → path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for k, p in seeds().items():
        q = folder / p.name
        q.write_bytes(p.read_bytes())
        out[k] = q
    return out


if __name__ == "__main__":  # pragma: no cover - manual inspection
    import sys
    import tempfile

    root = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
    for c in make_cases(root / "hostile"):
        print(c.name, os.fsdecode(c.path))

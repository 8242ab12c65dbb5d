"""Generate a realistic benchmark corpus of any size from the seed pages in data/raw.

    python benchmarks/generate.py --size 10MB --seed 1 -o benchmarks/data/10MB

The output is a folder of ``.txt`` pages (20–50 KB each, in sub-folders of 1000) that look
like the scraped report pages: a site header (spam keyword line, breadcrumb, "时间:" line,
"【导读预览】…" blurbs, announced essay counts), several essays separated by one of the
separator styles of the seeds (``标题篇1``, ``第一篇:``, ``【第一篇】``), numbered outlines
(一、 / （一） / 1、), sign-offs (organisation + date), and a "相关推荐" footer on some sites.

Essay text is recombined from the seeds' sentences (shuffled across pages and lightly
perturbed: synonyms, numbers, organisation names), so lines do not repeat verbatim across
pages the way real essay text does not — only boilerplate does. Mix, per page:

* ~20 % converted to traditional characters with OpenCC ``s2t`` (boilerplate included),
* ~10 % of essays are near-duplicates of an earlier essay (a few sentences changed),
* ~3 % of pages have no line breaks at all (like seed 004),
* ~5 % of simplified pages are encoded as GB18030 instead of UTF-8,
* the five seed pages themselves are included verbatim.

Everything is a deterministic function of ``--seed`` and ``--size`` (same bytes every run).
"""
from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "data" / "raw"

SPAM_LINES = [
    "国产成人v爽在线免播放观看,日韩欧美色,久久99国产精品久久99软件,亚洲综合色网站,国产欧美日韩中文久久,色99在线,亚洲伦理一区二区",
    "亚洲精品在线观看,免费视频播放,日韩欧美一区二区,国产精品免费视频",
]
SITES = [
    # (breadcrumb or None, header lines, separator style, footer?)
    {"crumb": "学习啦 > 实用范文 > 心得体会 > 心得体会 > {title}", "meta": "时间: 新华{n} 分享",
     "sep": "title_pian", "intro": "{title}要怎么写,才更标准规范?根据多年的文秘写作经验,参考优秀的{title}样本能让你事半功倍,"
                                  "下面分享【{title}(精选{k}篇)】,供你选择借鉴。", "spam": True, "footer": False},
    {"crumb": None, "meta": "时间:20{yy}-0{m}-1{d} 15:46:32下载本文作者:会员上传",
     "sep": "di_pian", "intro": "简介:写写帮文库小编为你整理了多篇相关的《{title}》,但愿对你工作学习有帮助,"
                                "当然你在写写帮文库还可以找到更多《{title}》。", "spam": False, "footer": True},
    {"crumb": None, "meta": None, "sep": "title_pian",
     "intro": "【导读预览】此篇优秀范文“{title}汇聚优秀{k}篇”由阿拉题库网友为您整理分享,以供您参考学习之用,"
              "希望此篇资料对您有所帮助,喜欢就复制下载支持吧!", "spam": False, "footer": False},
    {"crumb": "首页 > 范文大全 > 工作总结 > {title}", "meta": None, "sep": "di_pian", "intro": None,
     "spam": False, "footer": True},
    {"crumb": None, "meta": None, "sep": "bracket",
     "intro": "【学习指导】这篇学习资料“{title}【精选{k}篇】”由三一刀客漂亮的网友为您精心整理收集,供您学习参考,"
              "希望对您有所帮助!喜欢就分享下载吧。", "spam": False, "footer": False},
]
TITLES = ["工会工作总结", "工会创新工作心得体会", "工会工作计划", "基层工会工作经验交流材料", "工会主席述职报告",
          "教育系统工会工作心得交流稿", "工会工作亮点做法", "关于做好工会工作改革创新的心得体会", "企业工会年度工作报告",
          "职工之家建设情况汇报", "工会维权工作总结", "工会女职工工作总结", "工会经费审查工作报告", "职代会工作报告",
          "困难职工帮扶工作总结", "劳动竞赛活动总结", "工会财务工作总结", "学校工会工作计划", "车间工会工作总结"]
PLACES = ["泸西县", "保靖县", "临汾", "西宁", "宜昌市", "绵阳市", "赣州市", "昆明市", "大同市", "株洲市", "潍坊市",
          "嘉兴市", "遵义市", "洛阳市", "南通市", "桂林市"]
UNITS = ["疾控中心工会", "第二小学工会", "供电公司工会", "清筛二车间工会", "人民医院工会", "实验中学工会",
         "机务段工会", "煤矿工会", "热电厂工会", "税务局工会委员会", "建设集团工会", "第八中学工会"]
SYNONYMS = [("加强", "强化"), ("开展", "组织"), ("职工", "员工"), ("积极", "主动"), ("不断", "持续"),
            ("提高", "提升"), ("认真", "扎实"), ("深入", "全面"), ("促进", "推动"), ("活动", "工作")]
CN_NUM = "一二三四五六七八九十"
SENT_RE = re.compile(r"[^。！？!?]*[。！？!?]")
OUTLINE_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[)）]|\d{1,2}[、.．])\s*")
PINYIN_RE = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}[)）]")
NOISE = ("范文", "下载", "网友", "文库", "http", "www", "国产", "复制", "篇", "......")


def parse_size(s: str) -> int:
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMG]?)B?\s*", s.upper())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {s!r} (e.g. 10MB, 1GB, 500KB)")
    return int(float(m.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[m.group(2)])


def _opencc(cfg: str):
    import opencc

    return opencc.OpenCC(f"{cfg}.json").convert


def load_pools() -> tuple[list[str], list[str]]:
    """(body sentences, outline headings) from the seed pages, in simplified characters."""
    t2s = _opencc("t2s")
    sents: list[str] = []
    heads: list[str] = []
    rng = random.Random(0)
    for p in sorted(SEEDS.glob("*")):
        text = t2s(p.read_bytes().decode("utf-8", errors="replace"))
        text = text.replace(",", "，").replace(":", "：").replace("?", "？").replace("!", "！")
        for line in text.split("\n"):
            line = line.strip()
            if rng.random() < 0.95:  # seed 000 annotates many words with pinyin: keep a few
                line = PINYIN_RE.sub("", line)
            if not line or any(w in line for w in NOISE):
                continue
            m = OUTLINE_RE.match(line)
            if m and len(line) <= 40:
                h = line[m.end():].strip()
                if 4 <= len(h) <= 36:
                    heads.append(h.rstrip("。"))
                continue
            if m:
                line = line[m.end():]
            for s in SENT_RE.findall(line):
                s = s.strip()
                if 8 <= len(s) <= 220 and not OUTLINE_RE.match(s):
                    sents.append(s)
    # dedupe, keep order
    return list(dict.fromkeys(sents)), list(dict.fromkeys(heads))


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.sents, self.heads = load_pools()
        self.s2t = _opencc("s2t")
        self.bank: list[tuple[str, str]] = []  # (title, body) of generated essays, for near-duplicates

    # ---------------------------------------------------------------- text pieces
    def perturb(self, s: str) -> str:
        r = self.rng
        if r.random() < 0.5:
            a, b = r.choice(SYNONYMS)
            if r.random() < 0.5:
                a, b = b, a
            s = s.replace(a, b, 1)
        if r.random() < 0.3:
            s = re.sub(r"\d+", lambda m: str(r.randint(2, 99)), s, count=1)
        if r.random() < 0.15:
            s = r.choice(PLACES) + r.choice(UNITS).replace("工会委员会", "").replace("工会", "") + s
        return s

    def paragraph(self, lo: int = 2, hi: int = 6) -> str:
        return "".join(self.perturb(self.rng.choice(self.sents)) for _ in range(self.rng.randint(lo, hi)))

    def essay(self, title: str) -> str:
        r = self.rng
        if self.bank and r.random() < 0.10:  # near-duplicate of an earlier essay
            _, body = r.choice(self.bank)
            sents = SENT_RE.findall(body)
            for _ in range(r.randint(1, 3)):
                if sents:
                    i = r.randrange(len(sents))
                    sents[i] = self.perturb(r.choice(self.sents))
            return "".join(sents) if "\n" not in body else self._renew(body)
        lines = [self.paragraph(3, 7)]
        style = r.choice(["cn", "cn", "paren", "num"])
        for k in range(r.randint(2, 5)):
            head = r.choice(self.heads) if self.heads else self.paragraph(1, 1)[:20]
            if style == "num":
                lines.append(f"{k + 1}、{head}")
            elif style == "paren":
                lines.append(f"（{CN_NUM[k]}）{head}")
            else:
                lines.append(f"{CN_NUM[k]}、{head}")
                if r.random() < 0.4:
                    for j in range(r.randint(2, 3)):
                        lines.append(f"（{CN_NUM[j]}）{r.choice(self.heads)}")
                        lines.append(self.paragraph())
            for _ in range(r.randint(1, 3)):
                lines.append(self.paragraph())
        if r.random() < 0.6:
            lines.append(r.choice(PLACES) + r.choice(UNITS))
            y = r.randint(2008, 2023)
            lines.append(f"{y}年{r.randint(1, 12)}月{r.randint(1, 28)}日")
        body = "\n".join(lines)
        self.bank.append((title, body))
        if len(self.bank) > 500:
            self.bank.pop(r.randrange(len(self.bank)))
        return body

    def _renew(self, body: str) -> str:
        lines = body.split("\n")
        for _ in range(self.rng.randint(1, 3)):
            i = self.rng.randrange(len(lines))
            if len(lines[i]) > 40:
                lines[i] = self.paragraph()
        return "\n".join(lines)

    # ---------------------------------------------------------------- pages
    def page(self, target: int) -> tuple[str, str]:
        """(text, encoding) of one page of about ``target`` UTF-8 bytes."""
        r = self.rng
        site = r.choice(SITES)
        base = r.choice(TITLES)
        title = base if r.random() < 0.5 else f"{r.choice(PLACES)}{base}"
        k = r.randint(3, 10)
        fmt = dict(title=title, k=k, n=r.randint(0, 9), yy=r.randint(10, 23), m=r.randint(1, 9), d=r.randint(0, 9))
        head: list[str] = []
        if site["spam"]:
            head.append(r.choice(SPAM_LINES))
        if site["crumb"]:
            head.append(site["crumb"].format(**fmt))
        head.append(title if site["sep"] != "title_pian" else f"{title}(精选{k}篇)")
        if site["meta"]:
            head.append(site["meta"].format(**fmt))
        if site["intro"]:
            head.append(site["intro"].format(**fmt))
        parts = ["\n\n".join(head) if site["spam"] else "\n".join(head)]
        size = len("\n".join(parts).encode())
        i = 0
        while size < target and i < 30:
            i += 1
            n = CN_NUM[i - 1] if i <= 10 else str(i)
            etitle = self.perturb(r.choice(TITLES)) if r.random() < 0.5 else title
            if site["sep"] == "title_pian":
                sep = f"{title}篇{i}"
            elif site["sep"] == "di_pian":
                sep = f"第{n}篇：{etitle}"
            else:
                sep = f"{title}【第{n}篇】"
            body = self.essay(etitle)
            chunk = sep + "\n" + body
            parts.append(chunk)
            size += len(chunk.encode()) + 2
        if site["footer"]:
            rel = ["相关推荐"] + [f"{self.perturb(r.choice(TITLES))}\n{self.paragraph(1, 2)[:60]}......"
                                  for _ in range(r.randint(3, 6))]
            parts.append("\n".join(rel))
        text = ("\n\n" if site["spam"] else "\n").join(parts) + "\n"
        enc = "utf-8"
        roll = r.random()
        if roll < 0.20:
            text = self.s2t(text)
        elif roll < 0.23:
            text = text.replace("\n", "")
        elif roll < 0.28:
            enc = "gb18030"
        return text, enc


def generate(size: int, seed: int, out: Path, page_min: int = 20_000, page_max: int = 50_000) -> dict:
    """Write about ``size`` bytes of pages under ``out`` (replaced if it exists)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    total = n = 0
    for p in sorted(SEEDS.glob("*")):  # the seeds themselves, verbatim
        if total >= size:
            break
        data = p.read_bytes()
        (out / f"seed_{p.name}").write_bytes(data)
        total += len(data)
        n += 1
    gen = Generator(seed)
    while total < size:
        target = gen.rng.randint(page_min, page_max)
        text, enc = gen.page(target)
        data = text.encode(enc, errors="replace")
        d = out / f"p{n // 1000:04d}"
        d.mkdir(exist_ok=True)
        (d / f"{n:06d}.txt").write_bytes(data)
        total += len(data)
        n += 1
    return {"pages": n, "bytes": total, "seed": seed, "out": str(out)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=parse_size("10MB"), help="total size, e.g. 10MB, 1GB")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--out", required=True, help="output folder (replaced)")
    args = ap.parse_args(argv)
    info = generate(args.size, args.seed, Path(args.out))
    print(f"wrote {info['pages']} pages, {info['bytes'] / 2**20:.1f} MB to {info['out']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Synthetic notes like content/notes/twisted.md, and a temp Hugo site to hold them.

Each page is what a maintainer's first draft looks like before `twnotes sanitize`: Chinese
prose and lists, raw HTML with a bare `&`, a stray `<li>` outside any list, a table without
<tbody> and an inline link, and Python fences that import Twisted with an expected
```output fence. The text varies from page to page (seeded, so runs are comparable) so
that the sanitiser's per-fragment cache, Hugo and Pagefind all do real work.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
# What a site needs besides content; data/generated/ is written by the snippet stage.
SITE_PARTS: Final = ("config.toml", "layouts", "assets", "i18n", "data/errata.toml")

SUBJECTS: Final = (
    "反应器", "回调函数", "Deferred", "传输层", "协议实例", "协议工厂", "事件循环",
    "文件描述符", "非阻塞套接字", "错误回调", "连接", "定时器", "线程池", "端点",
)
VERBS: Final = (
    "负责", "等待", "调度", "处理", "封装", "通知", "接收", "缓存", "转发", "取消",
)
OBJECTS: Final = (
    "网络事件", "到达的数据", "新的连接", "超时", "异常与跟踪栈", "写缓冲区", "关闭通知",
    "下一个回调", "系统调用的结果", "协议状态", "字节流", "子进程的输出",
)
CLAUSES: Final = (
    "因此回调函数应当尽快返回", "这样主循环就不会被阻塞", "这正是异步编程的关键",
    "而不必创建新的线程", "所以不要在回调里调用 os.system", "它只在主线程中运行",
    "并且不会消耗任何 CPU 资源", "错误会沿着错误回调链传递",
)
TAGS: Final = (*(f"主题{n}" for n in range(40)), "Twisted", "Reactor", "Protocol")


def _sentence(rng: random.Random) -> str:
    return (f"{rng.choice(SUBJECTS)}{rng.choice(VERBS)}{rng.choice(OBJECTS)}，"
            f"{rng.choice(CLAUSES)}。")


def _paragraph(rng: random.Random, sentences: int) -> str:
    return "".join(_sentence(rng) for _ in range(sentences))


# Each snippet kind: (code, expected stdout), parameterised by the page number and a
# random int so that every snippet (and so every cache key) differs. The notes' snippets
# import Twisted, and so do these.
def _defer(n: int, k: int) -> tuple[str, str]:
    code = (f"from twisted.internet import defer\n\nd = defer.succeed({n})\n"
            f"d.addCallback(lambda x: x * {k})\nprint(d.result)\n")
    return code, f"{n * k}\n"


def _protocol(n: int, k: int) -> tuple[str, str]:
    code = ("from twisted.internet.protocol import Protocol\n"
            "from twisted.internet.testing import StringTransport\n\n\n"
            "class Shout(Protocol):\n    def dataReceived(self, data):\n"
            "        self.transport.write(data.upper())\n\n\n"
            "p = Shout()\nt = StringTransport()\np.makeConnection(t)\n"
            f'p.dataReceived(b"page {n} part {k}")\nprint(t.value().decode())\n')
    return code, f"PAGE {n} PART {k}\n"


def _clock(n: int, k: int) -> tuple[str, str]:
    code = ("from twisted.internet import task\n\nclock = task.Clock()\ncalls = []\n"
            f"clock.callLater({k}, calls.append, {n})\nclock.advance({k})\nprint(calls)\n")
    return code, f"[{n}]\n"


def _failure(n: int, k: int) -> tuple[str, str]:
    code = ("from twisted.python.failure import Failure\n\ntry:\n    1 / 0\n"
            "except ZeroDivisionError:\n    f = Failure()\n"
            f"print(f.check(ZeroDivisionError).__name__, {n + k})\n")
    return code, f"ZeroDivisionError {n + k}\n"


SNIPPETS: Final[tuple[Callable[[int, int], tuple[str, str]], ...]] = (
    _defer, _protocol, _clock, _failure)


def page(n: int, snippets: int = 1, seed: int = 0) -> str:
    """The Markdown of synthetic page `n` with `snippets` Python fences."""
    rng = random.Random(seed * 1_000_003 + n)
    tags = ", ".join(f'"{t}"' for t in rng.sample(TAGS, 3))
    parts = [
        "+++\n"
        f'date = "2016-{1 + n % 12:02d}-{1 + n % 28:02d}T22:17:23+08:00"\n'
        f'title = "基准笔记 {n}：{rng.choice(SUBJECTS)}与{rng.choice(SUBJECTS)}"\n'
        f'description = "第 {n} 篇合成笔记：{_sentence(rng)}"\n'
        f"tags = [{tags}]\n"
        "+++\n",
        f"# {rng.choice(SUBJECTS)}的特点\n",
        _paragraph(rng, rng.randint(3, 6)) + "\n",
        "\n".join(f"* {_sentence(rng)}" for _ in range(rng.randint(3, 6))) + "\n",
        f"## {rng.choice(SUBJECTS)}\n",
        "\n".join(f"{i}. {_paragraph(rng, 2)}" for i in range(1, rng.randint(3, 5))) + "\n",
    ]
    for s in range(snippets):
        code, expected = SNIPPETS[(n + s) % len(SNIPPETS)](n, rng.randint(2, 99))
        parts += [f"## 示例 {s + 1}\n", _paragraph(rng, 2) + "\n",
                  f"```python\n{code}```\n", f"```output\n{expected}```\n"]
    k = rng.randint(1, 999)
    parts += [
        "## 杂项\n",
        # Raw HTML as the original note had it: a stray list item, a bare `&` in a table
        # without <tbody>, and a link; all of it is flagged by `twnotes sanitize --check`.
        f"<li> 条目 {n}：{rng.choice(OBJECTS)}</li>\n",
        f"<table>\n  <tr>\n    <td>{rng.choice(SUBJECTS)} & {rng.choice(OBJECTS)}</td>\n"
        f"    <td>{n} & {k}</td>\n  </tr>\n</table>\n",
        f"{_sentence(rng)}参见 <a href=\"http://www.example.com/{n}/{k}\">第 {k} 号说明</a>，"
        f"{_paragraph(rng, 1)}\n",
        _paragraph(rng, rng.randint(2, 5)) + "\n",
    ]
    return "\n".join(parts)


def write_site(dest: Path, count: int, snippets: int = 1, seed: int = 0) -> Path:
    """A Hugo site at `dest`: the real layouts and config, `count` generated notes."""
    for part in SITE_PARTS:
        source, target = ROOT / part, dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    notes = dest / "content" / "notes"
    notes.mkdir(parents=True)
    (dest / "content" / "_index.md").write_text(
        '+++\ntitle = "基准站点"\ndescription = "合成的 Twisted 笔记，用于性能基准。"\n+++\n\n'
        "这里是合成的笔记，每篇都像原来的学习笔记那样含有原始 HTML 与 Python 代码。\n",
        encoding="utf-8")
    (notes / "_index.md").write_text(
        '+++\ntitle = "笔记"\ndescription = "合成笔记。"\nweight = 1\n+++\n\n合成笔记。\n',
        encoding="utf-8")
    for n in range(count):
        (notes / f"note-{n:05d}.md").write_text(page(n, snippets, seed), encoding="utf-8")
    return dest

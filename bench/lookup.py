"""搜题 benchmark: latency and accuracy of the question lookup over a 10,000-question bank.

    python -m bench.lookup [--questions 10000] [--queries 2000] [--seed 7]
                           [--database-url postgresql+asyncpg://postgres@127.0.0.1/postgres] [--json PATH]

The bank is the shipped sample bank plus generated questions (see `generated_bank` and bench/README.md).
Measured: building the index, the index search alone, and the path a handler takes (a DB fingerprint
check, then the search) against a database holding the whole bank; top-1 accuracy on
tests/data/lookup_queries.json (and the held-out tests/data/lookup_holdout.json) with the big bank.
Run by hand; it is a benchmark, not a test. Exit status 0 when p99 ≤ 20 ms and accuracy ≥ 90%, else 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/lookup.py`: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core import db
from bot.core.config import DatabaseConfig, QuizConfig
from bot.quiz.bank import QuestionData, import_questions, sample_bank, stable_key
from bot.quiz.lookup import LookupCache, LookupIndex

ROOT = Path(__file__).resolve().parent.parent
QUERY_SETS = (ROOT / "tests/data/lookup_queries.json", ROOT / "tests/data/lookup_holdout.json")
TARGET_P99_MS = 20.0
TARGET_ACCURACY = 0.90

# --- A realistic big bank -----------------------------------------------------------------------
DOCUMENTS = (
    "党章",
    "《中国共产党章程》",
    "支部工作条例",
    "《中国共产党支部工作条例（试行）》",
    "发展党员工作细则",
    "《中国共产党纪律处分条例》",
    "《中国共产党党内监督条例》",
    "《中国共产党党员教育管理工作条例》",
    "《中国共产党组织工作条例》",
    "《中国共产党党和国家机关基层组织工作条例》",
    "《中国共产党农村基层组织工作条例》",
    "《关于新形势下党内政治生活的若干准则》",
    "《中国共产党问责条例》",
)
SUBJECTS = (
    "党支部",
    "党总支",
    "基层党委",
    "党小组",
    "党支部书记",
    "党支部副书记",
    "组织委员",
    "宣传委员",
    "纪检委员",
    "党小组组长",
    "入党积极分子",
    "发展对象",
    "预备党员",
    "正式党员",
    "流动党员",
    "党员领导干部",
    "培养联系人",
    "入党介绍人",
    "上级党组织",
    "机关党委",
    "村党组织书记",
    "社区党组织",
    "离退休党员",
    "青年党员",
    "窗口单位党员",
)
ACTIONS = ("召开", "组织开展", "参加", "报告", "审批", "备案", "记录", "讨论决定", "督促落实", "检查", "公示")
OBJECTS = (
    "组织生活会",
    "主题党日",
    "民主评议党员",
    "谈心谈话",
    "党员大会",
    "支部委员会会议",
    "党小组会",
    "党课",
    "党费收缴",
    "党员教育培训",
    "志愿服务",
    "发展党员工作",
    "党员积分管理",
    "理论学习中心组学习",
    "三会一课",
    "换届选举",
    "党务公开",
    "党员档案管理",
    "困难党员帮扶",
    "党员承诺践诺",
    "入党申请人谈话",
    "预备党员考察",
    "政治审查",
    "集中培训",
    "组织关系转接",
)
ASPECTS = (
    "一般多长时间开展一次",
    "应当遵循什么程序",
    "主要内容包括哪些",
    "应当由谁负责",
    "应当在什么时间内完成",
    "需要报哪一级党组织批准",
    "至少需要多少人参加",
    "应当形成什么材料",
    "应当突出哪些方面",
    "可以采取哪些方式",
)
RULES = ("每月至少开展一次", "每季度开展一次", "每年至少开展一次", "无需报上级党组织批准", "须有半数以上党员到会")
TEMPLATES: tuple[tuple[str, str], ...] = (
    ("single", "{doc}规定，{subject}{action}{object}，{aspect}？"),
    ("single", "根据{doc}，{subject}在{object}中{aspect}？"),
    ("multi", "关于{subject}{action}{object}，下列说法正确的有（多选）"),
    ("single", "{doc}要求，{subject}对{object}负有什么责任？"),
    ("judge", "{doc}规定，{subject}{action}{object}{rule}。"),
    ("blank", "{doc}规定，{subject}{action}{object}，应当做到____。"),
)
# Entities swapped in sample stems to make near-duplicates (the hardest negatives a real bank holds).
SWAPS = (
    ("预备党员", "发展对象"),
    ("发展对象", "入党积极分子"),
    ("党支部", "党总支"),
    ("党小组", "党支部"),
    ("支部委员会", "党小组"),
    ("一年", "两年"),
    ("半年", "三个月"),
    ("每月", "每季度"),
    ("党员大会", "党员代表大会"),
    ("书记", "副书记"),
    ("中央", "省级"),
    ("政治", "组织"),
)
EVERYDAY = (
    "今天食堂的午饭有红烧肉吗",
    "周末单位组织去郊外爬山",
    "明天早上八点在三楼会议室集合",
    "怎么把手机里的照片传到电脑上",
    "高铁票改签要收多少手续费",
    "小区门口的快递柜坏了",
    "下雨天骑电动车注意安全",
    "孩子的作业怎么辅导比较好",
    "空调遥控器的电池没电了",
    "年底体检报告什么时候出来",
)


def _question(kind: str, stem: str, rng: random.Random) -> QuestionData:
    if kind in ("single", "multi"):
        options = tuple(rng.sample(OBJECTS, 4))
        answer: str | tuple[str, ...] = "B" if kind == "single" else "AC"
    elif kind == "judge":
        options, answer = (), rng.choice(("对", "错"))
    else:
        options, answer = (), (rng.choice(OBJECTS),)
    return QuestionData(stable_key(kind, stem), kind, stem, options, answer, "（生成的题目）", "bench", ("bench",), 1)


def generated_bank(size: int, seed: int) -> tuple[list[QuestionData], dict[str, str]]:
    """The sample bank, near-duplicates of its stems (about one in ten) and templated stems, `size` in all;
    and each near-duplicate's original key."""
    rng = random.Random(seed)
    sample = [q for _, q in sample_bank().questions]
    bank = {q.key: q for q in sample}
    origin: dict[str, str] = {}
    stems = {q.stem for q in sample}
    variants = max(0, (size - len(sample)) // 10)
    tries = 0
    while len(bank) < len(sample) + variants and tries < variants * 50:
        tries += 1
        original = rng.choice(sample)
        old, new = rng.choice(SWAPS)
        if old in original.stem and (stem := original.stem.replace(old, new, 1)) not in stems:
            stems.add(stem)
            variant = replace(original, key=stable_key(original.type, stem), stem=stem)
            bank[variant.key] = variant
            origin[variant.key] = original.key
    while len(bank) < size:
        kind, template = rng.choice(TEMPLATES)
        stem = template.format(
            doc=rng.choice(DOCUMENTS),
            subject=rng.choice(SUBJECTS),
            action=rng.choice(ACTIONS),
            object=rng.choice(OBJECTS),
            aspect=rng.choice(ASPECTS),
            rule=rng.choice(RULES),
        )
        if stem not in stems:
            stems.add(stem)
            question = _question(kind, stem, rng)
            bank[question.key] = question
    return list(bank.values()), origin


def perturbed(stem: str, rng: random.Random, alphabet: str) -> str:
    """A query as members type one: truncated, with a wrong character, or clauses in another order."""
    how = rng.randrange(3)
    if how == 0:
        length = max(6, int(len(stem) * rng.uniform(0.4, 0.9)))
        start = rng.randrange(0, max(1, len(stem) - length))
        return stem[start : start + length]
    if how == 1:
        chars = list(stem)
        for _ in range(rng.randint(1, 2)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        return "".join(chars)
    clauses = [c for c in stem.replace("？", "，").replace("。", "，").split("，") if c]
    rng.shuffle(clauses)
    return "，".join(clauses)


def latency_queries(bank: Sequence[QuestionData], labelled: Sequence[str], count: int, seed: int) -> list[str]:
    """The labelled queries, perturbed bank stems (70%) and everyday chatter (the rest), shuffled."""
    rng = random.Random(seed + 1)
    alphabet = "".join(sorted({ch for q in bank[:500] for ch in q.stem if "\u4e00" <= ch <= "\u9fff"}))
    queries = list(labelled)[:count]
    perturb = int(count * 0.7)
    queries += [perturbed(rng.choice(bank).stem, rng, alphabet) for _ in range(max(0, perturb - len(queries)))]
    queries += [rng.choice(EVERYDAY) + rng.choice(("", "？", "呢", "，谁知道")) for _ in range(count - len(queries))]
    rng.shuffle(queries)
    return queries


# --- Measuring ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Latency:
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Latency:
        cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
        return cls(round(cuts[49], 3), round(cuts[89], 3), round(cuts[98], 3), round(max(samples_ms), 3))


def timed(call: Callable[[str], Any], queries: Sequence[str]) -> Latency:
    samples = []
    for query in queries:
        start = time.perf_counter()
        call(query)
        samples.append((time.perf_counter() - start) * 1000)
    return Latency.of(samples)


def accuracy(index: LookupIndex, path: Path, min_score: float, origin: dict[str, str]) -> dict[str, Any]:
    """Top-1 accuracy: right question first (ranked), and right question first with a score the bot answers."""
    items = json.loads(path.read_text(encoding="utf-8"))["queries"]
    ranked = answered = 0
    misses = []
    for item in items:
        found = index.search(item["query"], limit=1)
        got = found[0].key if found else None
        if got == item["key"]:
            ranked += 1
            if found[0].score >= min_score:
                answered += 1
                continue
        misses.append(
            {
                "query": item["query"],
                "want": item["key"],
                "got": got,
                "near_duplicate_of_want": got is not None and origin.get(got) == item["key"],
                "score": found[0].score if found else None,
            }
        )
    return {"queries": len(items), "top1": ranked / len(items), "answered": answered / len(items), "misses": misses}


async def database_latency(url: str, bank: Sequence[QuestionData], queries: Sequence[str]) -> dict[str, Any]:
    """Import the bank into a fresh database, then time what a handler does: fingerprint check + search."""
    engine = db.create_engine(DatabaseConfig(url=url))
    try:
        await db.upgrade(engine)
        sessions = db.session_factory(engine)
        start = time.perf_counter()
        async with db.transaction(sessions) as session:
            await session.execute(text("DELETE FROM question"))
            await import_questions(session, bank, datetime.now(UTC))
        import_seconds = time.perf_counter() - start
        cache = LookupCache(first_wait=600)
        start = time.perf_counter()
        async with sessions() as session:
            await cache.index(session)
        build_seconds = time.perf_counter() - start
        assert cache.ready, "the index was not built"
        samples = []
        for query in queries:
            async with sessions() as session:
                start = time.perf_counter()
                await cache.search(session, query)
                samples.append((time.perf_counter() - start) * 1000)
        await cache.close()
        return {
            "database": make_url(url).get_backend_name(),
            "import_seconds": round(import_seconds, 2),
            "first_search_with_build_seconds": round(build_seconds, 2),
            "latency_ms": Latency.of(samples).__dict__,
        }
    finally:
        await engine.dispose()


async def _fresh_pg(admin_url: str) -> tuple[str, Callable[[], Any]]:
    name = f"yizhan_lookup_bench_{int(time.time())}"
    admin = create_async_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))

    async def drop() -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


async def run(args: argparse.Namespace) -> dict[str, Any]:
    bank, origin = generated_bank(args.questions, args.seed)
    labelled = [q["query"] for path in QUERY_SETS for q in json.loads(path.read_text(encoding="utf-8"))["queries"]]
    queries = latency_queries(bank, labelled, args.queries, args.seed)
    snapshot = [(n, q.key, q.stem, q.options) for n, q in enumerate(bank)]

    LookupIndex.of(snapshot[:10]).search("预备党员的预备期")  # load jieba's dictionary outside the timings
    start = time.perf_counter()
    index = LookupIndex.of(snapshot)
    build_seconds = time.perf_counter() - start
    for query in queries[:50]:  # warm-up
        index.search(query)
    min_score = QuizConfig().lookup_min_score
    result: dict[str, Any] = {
        "questions": len(bank),
        "queries": len(queries),
        "index_build_seconds": round(build_seconds, 2),
        "search_latency_ms": timed(index.search, queries).__dict__,
        "accuracy": {path.stem: accuracy(index, path, min_score, origin) for path in QUERY_SETS},
        "min_score": min_score,
    }
    databases = []
    with tempfile.TemporaryDirectory() as tmp:
        databases.append(await database_latency(f"sqlite+aiosqlite:///{tmp}/lookup.db", bank, queries))
    if args.database_url:
        url, drop = await _fresh_pg(args.database_url)
        try:
            databases.append(await database_latency(url, bank, queries))
        finally:
            await drop()
    result["handler_path"] = databases
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=10_000, help="bank size (default 10000)")
    parser.add_argument("--queries", type=int, default=2_000, help="queries timed (default 2000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generated bank and queries")
    parser.add_argument("--database-url", default="", help="also time the handler path on this PostgreSQL server")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    search = result["search_latency_ms"]
    print(f"bank: {result['questions']} questions; index built in {result['index_build_seconds']} s")
    print(
        f"search ({result['queries']} queries): p50 {search['p50']} ms, p90 {search['p90']} ms, p99 {search['p99']} ms, max {search['max']} ms"
    )
    for entry in result["handler_path"]:
        lat = entry["latency_ms"]
        print(
            f"handler path on {entry['database']} (fingerprint + search): p50 {lat['p50']} ms, p99 {lat['p99']} ms, "
            f"max {lat['max']} ms; import {entry['import_seconds']} s, first search with build {entry['first_search_with_build_seconds']} s"
        )
    for name, acc in result["accuracy"].items():
        print(
            f"{name}: top-1 {acc['top1']:.0%}, answered correctly (score ≥ {result['min_score']:.0f}) {acc['answered']:.0%} of {acc['queries']}"
        )
        for miss in acc["misses"]:
            near = " (a near-duplicate of it)" if miss["near_duplicate_of_want"] else ""
            print(f"   miss: {miss['query']} → {miss['got']}{near} ({miss['score']}), want {miss['want']}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    worst_p99 = max([search["p99"], *(e["latency_ms"]["p99"] for e in result["handler_path"])])
    ok = worst_p99 <= TARGET_P99_MS and result["accuracy"][QUERY_SETS[0].stem]["answered"] >= TARGET_ACCURACY
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

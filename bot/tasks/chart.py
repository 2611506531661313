"""年评比 as a PNG: a stacked bar per branch, one colour per scoring rule (the CJK font of bot/quiz/chart.py)."""

from __future__ import annotations

from bot.quiz.chart import cjk_family, label_axes, png
from bot.tasks import texts as task_texts
from bot.tasks.scoring import RULES, BranchScore

RULE_COLORS = ("#c8161d", "#e06c3c", "#d4a017", "#6a8caf", "#4e8a5a")


def ranking_png(title: str, scores: list[BranchScore]) -> bytes | None:
    """Best at the top, each bar split by rule, the total at its end; None without a CJK font or scores."""
    family = cjk_family()
    if family is None or not scores:
        return None
    from matplotlib.figure import Figure

    shown = scores[::-1]
    positions = list(range(len(shown)))
    figure = Figure(figsize=(7.5, 1.6 + 0.5 * len(shown)), dpi=150)
    axes = figure.add_subplot()
    left = [0.0] * len(shown)
    for rule, color in zip(RULES, RULE_COLORS, strict=True):
        values = [s.score(rule) for s in shown]
        axes.barh(positions, values, left=left, color=color, label=task_texts.SCORE_RULE_NAMES[rule])
        left = [a + b for a, b in zip(left, values, strict=True)]
    for position, s in zip(positions, shown, strict=True):
        axes.text(s.total, position, f" {s.total:g}", va="center", fontfamily=family, fontsize=10)
    axes.set_yticks(positions, [s.unit.name for s in shown])
    label_axes(axes, title, family)
    axes.set_xlim(0, max(max(left), 1) * 1.15)
    axes.legend(
        prop={"family": family, "size": 9}, loc="lower right", ncols=len(RULES), bbox_to_anchor=(1, 1.06), frameon=False
    )
    return png(figure, axes)

"""Leaderboards as PNG images (matplotlib, with a CJK font found on the machine)."""

from __future__ import annotations

import io
import logging
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import Any

from bot.quiz import texts as quiz_texts

log = logging.getLogger(__name__)

# Fonts with simplified Chinese glyphs, in order of preference (Debian: fonts-wqy-microhei, fonts-noto-cjk).
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)
BAR_COLOR = "#c8161d"  # the red of the bot's avatar
HIGHLIGHT = ("#d4a017", "#9e9e9e", "#b87333")  # gold, silver, bronze


@cache
def cjk_family() -> str | None:
    """The first installed CJK font family, or None (then only the text leaderboard is sent)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    if not installed & set(CJK_FAMILIES):
        # matplotlib caches the font list on first use: a font installed after that is not in it. Look again.
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)  # type: ignore[attr-defined]
        installed = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    log.warning("no CJK font found (install fonts-wqy-microhei); leaderboards are sent as text only")
    return None


@dataclass(frozen=True)
class Bar:
    """One member's bar: keyed by the member, not the name (two 张伟 are two bars)."""

    member_id: int
    name: str
    points: int
    group: str = ""  # the member's 党小组, to tell namesakes apart


def labels(bars: list[Bar]) -> list[str]:
    """Each bar's label: the name, and for a name several members share, their 党小组 (or member number)."""
    names = Counter(bar.name for bar in bars)
    groups = Counter((bar.name, bar.group) for bar in bars)
    out = []
    for bar in bars:
        if names[bar.name] == 1:
            out.append(bar.name)
        elif bar.group and groups[(bar.name, bar.group)] == 1:
            out.append(quiz_texts.CHART_NAMESAKE.format(name=bar.name, detail=bar.group))
        else:
            out.append(
                quiz_texts.CHART_NAMESAKE.format(
                    name=bar.name, detail=quiz_texts.CHART_MEMBER_NUMBER.format(id=bar.member_id)
                )
            )
    return out


# Charts rendered lately, by what they show: a leaderboard asked again before its standings change is not
# drawn again (rendering takes tens of milliseconds; asking takes microseconds).
_RENDERED: OrderedDict[tuple[str, tuple[Bar, ...]], bytes | None] = OrderedDict()
_RENDERED_MAX = 32


def rendered(title: str, bars: list[Bar]) -> tuple[bool, bytes | None]:
    """(True, the PNG) if this chart was drawn lately; (False, None) if it must be drawn."""
    key = (title, tuple(bars))
    if key in _RENDERED:
        _RENDERED.move_to_end(key)
        return True, _RENDERED[key]
    return False, None


def remember(title: str, bars: list[Bar], png: bytes | None) -> None:
    _RENDERED[(title, tuple(bars))] = png
    while len(_RENDERED) > _RENDERED_MAX:
        _RENDERED.popitem(last=False)


def leaderboard_png(title: str, bars: list[Bar]) -> bytes | None:
    """A horizontal bar chart, best at the top; None without a CJK font or bars."""
    family = cjk_family()
    if family is None or not bars:
        return None
    from matplotlib.figure import Figure

    shown = bars[::-1]
    names = labels(bars)[::-1]
    values = [bar.points for bar in shown]
    colors = [BAR_COLOR] * len(bars)
    for i in range(min(3, len(bars))):
        colors[len(bars) - 1 - i] = HIGHLIGHT[i]
    figure = Figure(figsize=(6, 1.2 + 0.45 * len(bars)), dpi=150)
    axes = figure.add_subplot()
    # Positions, not names, place the bars: matplotlib puts equal category names on one row.
    positions = list(range(len(shown)))
    bars_drawn = axes.barh(positions, values, color=colors)
    axes.set_yticks(positions, names)
    axes.bar_label(
        bars_drawn,
        labels=[quiz_texts.CHART_POINTS.format(value=v) for v in values],
        padding=4,
        fontfamily=family,
        fontsize=10,
    )
    label_axes(axes, title, family)
    axes.set_xlim(0, max(values) * 1.2 if max(values) > 0 else 1)
    axes.tick_params(axis="x", labelsize=8)
    return png(figure, axes)


def label_axes(axes: Any, title: str, family: str) -> None:
    """A horizontal bar chart's title and row labels in the CJK font."""
    axes.set_title(title, fontfamily=family, fontsize=13, pad=10)
    for label in axes.get_yticklabels():
        label.set_fontfamily(family)
        label.set_fontsize(11)


def png(figure: Any, axes: Any) -> bytes:
    """The chart, without its top and right frame, as PNG bytes."""
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

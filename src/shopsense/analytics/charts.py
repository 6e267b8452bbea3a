"""How do the dashboard's numbers look? PNG charts drawn server-side with matplotlib (Agg,
no pyplot state, so concurrent requests do not share a figure), from a DP release (noise
bands of +-1 standard deviation where a series is a time line) and from evaluation reports.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PALETTE = ("#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2", "#db2777")
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "Source Han Sans SC", "SimHei", "Microsoft YaHei", "PingFang SC")
STAGE_LABELS = {"en": {"view": "viewed", "cart": "carted", "purchase": "bought"},
                "zh": {"view": "浏览", "cart": "加购", "purchase": "购买"}}
TOP_N = 15


CJK_FONT_GLOBS = ("**/wqy*.tt[cf]", "**/NotoSansCJK*.tt[cf]", "**/SourceHanSans*.[ot]t[cf]")
_families: list[str] = []


def font_families() -> list[str]:
    """Installed CJK fonts first (for Chinese labels), then DejaVu Sans.

    matplotlib's font cache predates fonts installed later (apt install fonts-wqy-microhei),
    so system font folders are scanned once and any CJK font found is registered.
    """
    if not _families:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        if not installed & set(CJK_FONTS):
            for folder in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts")):
                for pattern in CJK_FONT_GLOBS:
                    for path in sorted(folder.glob(pattern)) if folder.exists() else []:
                        font_manager.fontManager.addfont(str(path))
            installed = {f.name for f in font_manager.fontManager.ttflist}
        _families.extend([n for n in CJK_FONTS if n in installed] + ["DejaVu Sans"])
    return list(_families)


def _figure(width: float = 7.5, height: float = 3.6) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", alpha=0.25)
    return fig, ax


def _png(fig: Figure) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


_RENDER = threading.Lock()  # rc_context edits global rcParams: one chart at a time


def _with_fonts(draw: Callable[..., bytes]) -> Callable[..., bytes]:
    def wrapped(*args: Any, **kwargs: Any) -> bytes:
        import matplotlib

        with _RENDER, matplotlib.rc_context({"font.family": font_families(), "font.size": 9,
                                    "axes.unicode_minus": False}), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            return draw(*args, **kwargs)

    return wrapped


def _title(agg: dict[str, Any], lang: str) -> str:
    return agg["title_zh"] if lang == "zh" else agg["title_en"]


def _series(agg: dict[str, Any], second: str) -> tuple[list[str], list[int]]:
    rows = [r for r in agg["rows"] if r["parts"][1] == second]
    return [r["parts"][0] for r in rows], [r["count"] for r in rows]


@_with_fonts
def time_lines(agg: dict[str, Any], lang: str, seconds: tuple[str, ...],
               labels: dict[str, str] | None = None) -> bytes:
    """One line per second key part (a stage, new/returning) over days, with a noise band."""
    fig, ax = _figure()
    sd = agg["stddev"]
    for n, second in enumerate(seconds):
        days, counts = _series(agg, second)
        x = range(len(days))
        colour = PALETTE[n % len(PALETTE)]
        ax.plot(x, counts, color=colour, label=(labels or {}).get(second, second), lw=1.8)
        ax.fill_between(x, [c - sd for c in counts], [c + sd for c in counts], color=colour,
                        alpha=0.12, lw=0)
        step = max(1, len(days) // 8)
        ax.set_xticks(list(x)[::step], [d[5:] for d in days][::step])
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, loc="upper left", ncol=len(seconds))
    ax.set_title(_title(agg, lang), loc="left", fontsize=10)
    return _png(fig)


@_with_fonts
def day_line(agg: dict[str, Any], lang: str) -> bytes:
    fig, ax = _figure()
    days = [r["key"] for r in agg["rows"]]
    counts = [r["count"] for r in agg["rows"]]
    x = range(len(days))
    ax.plot(x, counts, color=PALETTE[0], lw=1.8)
    ax.fill_between(x, [c - agg["stddev"] for c in counts], [c + agg["stddev"] for c in counts],
                    color=PALETTE[0], alpha=0.12, lw=0)
    step = max(1, len(days) // 8)
    ax.set_xticks(list(x)[::step], [d[5:] for d in days][::step])
    ax.set_ylim(bottom=0)
    ax.set_title(_title(agg, lang), loc="left", fontsize=10)
    return _png(fig)


@_with_fonts
def bars(agg: dict[str, Any], lang: str, *, top: int = TOP_N, empty_text: str = "") -> bytes:
    """Horizontal bars of the largest noisy counts, with +-1 sd whiskers."""
    rows = sorted(agg["rows"], key=lambda r: -r["count"])[:top][::-1]
    fig, ax = _figure(7.5, max(2.4, 0.28 * len(rows) + 1.0))
    ax.grid(axis="y", alpha=0)
    ax.grid(axis="x", alpha=0.25)
    if rows:
        names = agg.get("labels") or {}  # brand entities: the name in the chart's language
        ax.barh([(names.get(r["key"]) or {}).get("en" if lang == "en" else "zh", r["key"])
                 for r in rows], [r["count"] for r in rows], color=PALETTE[0],
                xerr=agg["stddev"], error_kw={"elinewidth": 0.8, "ecolor": "#64748b"})
    else:
        ax.text(0.5, 0.5, empty_text, ha="center", va="center", transform=ax.transAxes,
                wrap=True, color="#64748b")
        ax.axis("off")
    ax.set_title(_title(agg, lang), loc="left", fontsize=10)
    return _png(fig)


@_with_fonts
def category_funnel(agg: dict[str, Any], lang: str) -> bytes:
    """Grouped bars: per top category, shoppers who viewed, carted and bought."""
    cats = sorted({r["parts"][0] for r in agg["rows"]})
    fig, ax = _figure(7.5, 3.8)
    width = 0.27
    labels = STAGE_LABELS["zh" if lang == "zh" else "en"]
    for n, stage in enumerate(("view", "cart", "purchase")):
        counts = {r["parts"][0]: r["count"] for r in agg["rows"] if r["parts"][1] == stage}
        ax.bar([i + (n - 1) * width for i in range(len(cats))], [counts.get(c, 0) for c in cats],
               width, label=labels[stage], color=PALETTE[n])
    ax.set_xticks(range(len(cats)), cats, rotation=30, ha="right")
    ax.legend(frameon=False)
    ax.set_title(_title(agg, lang), loc="left", fontsize=10)
    return _png(fig)


@_with_fonts
def grouped_metrics(table: dict[str, dict[str, float]], title: str) -> bytes:
    """Grouped bars: one group per metric, one bar per model or baseline."""
    models = list(table)
    metrics = sorted({m for row in table.values() for m in row})[:10]
    fig, ax = _figure(8.0, 3.8)
    width = 0.8 / max(1, len(models))
    for n, model in enumerate(models):
        ax.bar([i + n * width - 0.4 + width / 2 for i in range(len(metrics))],
               [table[model].get(m, 0.0) for m in metrics], width, label=model,
               color=PALETTE[n % len(PALETTE)])
    ax.set_xticks(range(len(metrics)), metrics, rotation=20, ha="right")
    ax.legend(frameon=False, fontsize=8, ncol=min(4, len(models)))
    ax.set_title(title, loc="left", fontsize=10)
    return _png(fig)


@_with_fonts
def calibration(curves: list[tuple[str, list[dict[str, float]]]], title: str) -> bytes:
    """Reliability diagram: observed rate vs mean predicted probability per bin."""
    fig, ax = _figure(5.2, 4.4)
    ax.plot([0, 1], [0, 1], ls="--", color="#94a3b8", lw=1, label="perfect")
    top = 0.05
    for n, (label, points) in enumerate(curves):
        xs = [p["mean_predicted"] for p in points]
        ys = [p["observed_rate"] for p in points]
        top = max([top, *xs, *ys])
        ax.plot(xs, ys, marker="o", ms=3, lw=1.5, label=label, color=PALETTE[n % len(PALETTE)])
    limit = min(1.0, top * 1.1)
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title, loc="left", fontsize=10)
    return _png(fig)


@_with_fonts
def ctr_bars(agg: dict[str, Any], lang: str) -> bytes:
    """Click-through per surface from noisy clicked / not-clicked counts, lists shown on top."""
    counts: dict[str, dict[str, int]] = {}
    for row in agg["rows"]:
        counts.setdefault(row["parts"][0], {})[row["parts"][1]] = row["count"]
    surfaces = [s for s, c in counts.items() if sum(c.values()) > 0]
    fig, ax = _figure(7.5, 3.2)
    rates = [counts[s].get("clicked", 0) / max(1, sum(counts[s].values())) for s in surfaces]
    bars_ = ax.bar(surfaces, rates, color=PALETTE[0])
    for bar, s in zip(bars_, surfaces, strict=True):
        ax.annotate(f"n={sum(counts[s].values())}", (bar.get_x() + bar.get_width() / 2,
                    bar.get_height()), ha="center", va="bottom", fontsize=8, color="#64748b")
    ax.set_ylim(0, max([0.1, *rates]) * 1.25)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_title(_title(agg, lang), loc="left", fontsize=10)
    return _png(fig)


def release_chart(name: str, release: dict[str, Any], lang: str = "en") -> bytes:
    """The named chart of a behaviour release; KeyError for an unknown name."""
    aggregates = release["aggregates"]
    agg = aggregates[name]
    stage_labels = STAGE_LABELS["zh" if lang == "zh" else "en"]
    if name == "funnel_daily":
        return time_lines(agg, lang, ("view", "cart", "purchase"), stage_labels)
    if name == "new_returning":
        names = {"new": "新顾客" if lang == "zh" else "new",
                 "returning": "老顾客" if lang == "zh" else "returning"}
        return time_lines(agg, lang, ("new", "returning"), names)
    if name == "active_daily":
        return day_line(agg, lang)
    if name == "funnel_category":
        return category_funnel(agg, lang)
    if name == "surface_ctr":
        return ctr_bars(agg, lang)
    empty = (f"no key reached the release threshold ({agg.get('threshold', 0):.0f} shoppers);"
             " raise epsilon or widen the window")
    return bars(agg, lang, empty_text=empty)


CHART_NAMES: tuple[str, ...] = (
    "funnel_daily", "active_daily", "new_returning", "funnel_category", "search_ctr",
    "query_terms", "top_queries", "no_click_queries", "zero_result_queries", "category_share",
    "brand_share",
    "platform_split", "surface_ctr",
)

"""Charts of the KPI dashboard, drawn as SVG on the server (no charting library, no JavaScript).

Two kinds are enough for the dashboard: horizontal bars (a rate or a count per unit or officer,
each bar labelled with its value) and stacked columns (counts per kind per period, with a legend).
Every chart has a <title> and <desc> for screen readers, and the same numbers are in the table
beside it (which is what one downloads as CSV). Colours are chosen to stay apart for the common
colour-vision deficiencies and to contrast with white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#0b5394", "#e69138", "#38761d", "#cc0000", "#674ea7", "#45818e", "#a61c00", "#7f6000", "#3d85c6",
           "#b45f06", "#555555")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None      # None: no data (drawn as a dash)
    text: str                # the value as shown ("92,5%", "12")
    tone: str = ""           # "", "good", "warn", "bad": a CSS class for the bar


def _f(n: float) -> str:
    return f"{n:.1f}".rstrip("0").rstrip(".")


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _ends(text: str, chars: int) -> str:
    """The first and last whole words of `text` that fit in `chars` with an ellipsis between."""
    words = text.split()
    tail: list[str] = []
    while words and len(" ".join([words[-1], *tail])) <= chars // 2:
        tail.insert(0, words.pop())
    head: list[str] = []
    for w in words:
        if len(" ".join([*head, w])) + len(" ".join(tail)) + 2 > chars:
            break
        head.append(w)
    return " ".join(head) + " … " + " ".join(tail) if tail else _clip(text, chars)


def clipped_labels(labels: Sequence[str], chars: int) -> list[str]:
    """Labels cut to `chars`, still telling the bars apart.

    Names of one kind share long beginnings ("Chi nhánh Văn phòng Đăng ký đất đai khu vực I", "… khu vực
    XII"): cut at the end, they read the same. Those that would collide keep their beginning and their
    end and lose the middle; the full name stays in the bar's tooltip.
    """
    first = [_clip(t, chars) for t in labels]
    out = []
    for text, cut in zip(labels, first, strict=True):
        if cut != text and first.count(cut) > 1:
            cut = _ends(text, chars)
        out.append(cut)
    return out


def hbars(bars: Sequence[Bar], *, title: str, description: str, uid: str, maximum: float = 1.0,
          label_width: int = 260, width: int = 720) -> Markup:
    row, top = 26, 8
    height = top * 2 + row * max(1, len(bars))
    plot = width - label_width - 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart hbars" role="img" '
             f'aria-labelledby="{uid}-t {uid}-d" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
             f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(description)}</desc>']
    for i in range(0, 5):
        x = label_width + plot * i / 4
        parts.append(f'<line class="grid" x1="{_f(x)}" y1="{top}" x2="{_f(x)}" y2="{height - top}" '
                     'stroke="#d0d0d0" stroke-width="1"/>')
    shown = clipped_labels([b.label for b in bars], label_width // 7)
    for i, bar in enumerate(bars):
        y = top + i * row
        parts.append(f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" fill="#1a1a1a">'
                     f"<title>{escape(bar.label)}</title>{escape(shown[i])}</text>")
        if bar.value is None:
            parts.append(f'<text x="{label_width + 4}" y="{y + 17}" fill="#555">—</text>')
            continue
        w = max(0.0, min(1.0, bar.value / maximum if maximum else 0.0)) * plot
        tone = f" {bar.tone}" if bar.tone else ""
        parts.append(f'<g class="bar{tone}" data-label="{escape(bar.label)}" data-value="{bar.value:.4f}">'
                     f'<rect x="{label_width}" y="{y + 5}" width="{_f(max(w, 1))}" height="{row - 10}" '
                     f'fill="{PALETTE[0]}"/></g>'
                     f'<text x="{_f(label_width + w + 6)}" y="{y + 17}" fill="#1a1a1a">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked(columns: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]], *, title: str,
            description: str, uid: str, width: int = 720, height: int = 300) -> Markup:
    """`series`: (key, legend label, count per column)."""
    left, right, top, bottom = 44, 10, 12, 58
    legend_rows = (len(series) + 2) // 3
    total_h = height + legend_rows * 18
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s[2][i] for s in series) for i in range(len(columns))]
    peak = max(totals, default=0) or 1
    step = _nice_step(peak)
    peak = step * ((peak + step - 1) // step)
    slot = plot_w / max(1, len(columns))
    bar_w = max(2.0, slot * 0.7)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart stacked" role="img" '
             f'aria-labelledby="{uid}-t {uid}-d" viewBox="0 0 {width} {total_h}" width="{width}" height="{total_h}" '
             'font-family="DejaVu Sans, Arial, sans-serif" font-size="11">',
             f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(description)}</desc>']
    tick = 0
    while tick <= peak:
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<line x1="{left}" y1="{_f(y)}" x2="{width - right}" y2="{_f(y)}" stroke="#d0d0d0"/>'
                     f'<text x="{left - 6}" y="{_f(y + 4)}" text-anchor="end" fill="#1a1a1a">{tick}</text>')
        tick += step
    every = max(1, len(columns) // 12)
    for i, name in enumerate(columns):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        for n, (key, legend, counts) in enumerate(series):
            value = counts[i]
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(f'<rect class="seg" data-kind="{escape(key)}" data-column="{escape(name)}" '
                         f'data-value="{value}" x="{_f(x)}" y="{_f(y)}" width="{_f(bar_w)}" height="{_f(h)}" '
                         f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(name)}: {escape(legend)} {value}</title>'
                         "</rect>")
        if i % every == 0:
            cx, cy = x + bar_w / 2, top + plot_h + 10
            parts.append(f'<text x="{_f(cx)}" y="{_f(cy)}" text-anchor="end" fill="#1a1a1a" '
                         f'transform="rotate(-45 {_f(cx)} {_f(cy)})">{escape(name)}</text>')
    for n, (_key, legend, _counts) in enumerate(series):
        lx = left + (n % 3) * (plot_w / 3)
        ly = height + (n // 3) * 18
        parts.append(f'<rect x="{_f(lx)}" y="{ly}" width="12" height="12" fill="{PALETTE[n % len(PALETTE)]}"/>'
                     f'<text x="{_f(lx + 17)}" y="{ly + 10}" fill="#1a1a1a">{escape(legend)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_step(peak: int) -> int:
    raw = max(1, peak // 5)
    for scale in (1, 10, 100, 1000, 10000, 100000):
        for unit in (1, 2, 5):
            if unit * scale >= raw:
                return unit * scale
    return raw

"""A BPMN diagram drawn as SVG on the server, from the file's own DI (shapes, edges, label bounds).

Officers and auditors see the procedure as the supervisor drew it, with no JavaScript and nothing
loaded from elsewhere. The drawing follows the BPMN 2.0 notation in the way bpmn.io does, in a
reduced form: pools and lanes with their names in a band, events (start thin, end thick,
intermediate and boundary double, timer and message markers), activities (rounded boxes, task-type
markers, call activities thick), gateways (diamonds with ×, +, ○ markers), data objects and stores,
text annotations, sequence flows with arrowheads, message flows and associations, labels wrapped to
their bounds.

Each element is a `<g>` with `data-element-id` (the BPMN id) and classes for its kind and its state
in a dossier (`done`, `current`, `passed`, `returned`, flows `taken`); the page's stylesheet colours
them, and presentation attributes keep the drawing readable without it. Every text is escaped;
nothing of the file reaches the SVG except numbers and escaped strings. A file without DI draws
nothing (None); an element with broken bounds is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from .diagram_layout import (
    ACTIVITIES,
    EVENTS,
    FONT,
    GATEWAYS,
    Box,
    Edge,
    Layout,
    Shape,
    layout_of,
    read_layout,
)

__all__ = ["Box", "Edge", "Highlight", "Layout", "Shape", "layout_of", "lanes_in", "read_layout", "render", "wrap"]
_WORD = re.compile(r"\S+")
MAX_TIP = 500  # characters of a tooltip: the checker's cap on names (engine/definitions/limits.py)
CHAR = 0.56  # average glyph width per font size, for wrapping (Vietnamese with diacritics included)
BAND = 30    # width of the name band of pools and lanes


@dataclass
class Highlight:
    """A dossier's state on the diagram (element ids)."""

    done: set[str] = field(default_factory=set)      # steps finished
    current: set[str] = field(default_factory=set)   # steps open now
    passed: set[str] = field(default_factory=set)    # other nodes the dossier went through
    returned: set[str] = field(default_factory=set)  # steps whose work was sent back
    flows: set[str] = field(default_factory=set)     # sequence flows taken
    instances: dict[str, tuple[int, int]] = field(default_factory=dict)  # multi-instance step: (open, of all)

    def node_class(self, element: str) -> str:
        if element in self.current:
            return "current"
        if element in self.done:
            return "done"
        if element in self.returned:
            return "returned"
        if element in self.passed:
            return "passed"
        return ""


# -- text -----------------------------------------------------------------------------------------

def wrap(text: str, width: float, size: float = FONT, max_lines: int | None = None) -> list[str]:
    """Words into lines of at most `width` pixels (estimated); a word too long is cut. Linear in the
    text, and it stops once it has one line more than it may show: a 1.9 MB step name (deployed before
    the checker capped names) cost seconds per drawing when a long word was cut by re-slicing its rest."""
    per_line = max(4, int(width / (size * CHAR)))
    enough = None if max_lines is None else max_lines + 1
    lines: list[str] = []
    current = ""
    for match in _WORD.finditer(text):
        if enough is not None and len(lines) >= enough:
            break
        word = match.group()
        if len(word) > per_line:
            if current:
                lines.append(current)
            end = len(word) if enough is None else min(len(word), per_line * (enough + 1))
            pieces = [word[i:i + per_line] for i in range(0, end, per_line)]
            lines += pieces[:-1]
            current = pieces[-1]
            continue
        candidate = f"{current} {word}".strip()
        if len(candidate) <= per_line:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, per_line - 1)].rstrip() + "…"
    return lines


def clip(text: str, limit: int = MAX_TIP) -> str:
    """A tooltip: names over the checker's cap (deployed before it) are cut, not copied whole into the page."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _f(n: float) -> str:
    return f"{n:.1f}".rstrip("0").rstrip(".")


def _text(lines: list[str], cx: float, top: float, size: float = FONT, cls: str = "label",
          anchor: str = "middle") -> str:
    if not lines:
        return ""
    spans = "".join(f'<tspan x="{_f(cx)}" dy="{_f(size * 1.2 if i else size)}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return (f'<text class="{cls}" x="{_f(cx)}" y="{_f(top)}" font-size="{_f(size)}" text-anchor="{anchor}" '
            f'fill="#1a1a1a">{spans}</text>')


def _centered(text: str, box: Box, size: float = FONT) -> str:
    max_lines = max(1, int((box.h - 6) / (size * 1.2)))
    lines = wrap(text, box.w - 10, size, max_lines)
    height = len(lines) * size * 1.2
    return _text(lines, box.cx, box.cy - height / 2 - size * 0.15, size)


# -- drawing --------------------------------------------------------------------------------------

STROKE = 'stroke="#1a1a1a" fill="#ffffff"'


def _event(s: Shape) -> str:
    r = min(s.box.w, s.box.h) / 2
    cx, cy = s.box.cx, s.box.cy
    dash = "" if s.interrupting else ' stroke-dasharray="4 3"'
    if s.kind == "startEvent":
        out = f'<circle class="shape" cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" {STROKE} stroke-width="2"{dash}/>'
    elif s.kind == "endEvent":
        out = f'<circle class="shape" cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" {STROKE} stroke-width="4"/>'
        if s.marker == "terminate":
            out += f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r * 0.6)}" fill="#1a1a1a"/>'
    else:
        out = (f'<circle class="shape" cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" {STROKE} stroke-width="1.5"{dash}/>'
               f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r - 3)}" fill="none" stroke="#1a1a1a"{dash}/>')
    if s.marker == "timer":
        m = r * 0.55
        out += (f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(m)}" fill="#fff" stroke="#1a1a1a" stroke-width="1.5"/>'
                f'<path d="M{_f(cx)},{_f(cy - m * 0.8)} L{_f(cx)},{_f(cy)} L{_f(cx + m * 0.6)},{_f(cy)}" '
                'fill="none" stroke="#1a1a1a" stroke-width="1.5"/>')
    elif s.marker == "message":
        w, h = r * 1.0, r * 0.7
        x, y = cx - w / 2, cy - h / 2
        fill = "#1a1a1a" if s.kind in ("endEvent", "intermediateThrowEvent") else "#fff"
        out += (f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" fill="{fill}" stroke="#1a1a1a"/>'
                f'<path d="M{_f(x)},{_f(y)} L{_f(cx)},{_f(cy)} L{_f(x + w)},{_f(y)}" fill="none" '
                f'stroke="{"#fff" if fill != "#fff" else "#1a1a1a"}"/>')
    elif s.marker in ("signal", "escalation", "error", "conditional", "compensate", "link"):
        m = r * 0.5
        out += (f'<path d="M{_f(cx)},{_f(cy - m)} L{_f(cx + m)},{_f(cy + m * 0.7)} L{_f(cx - m)},{_f(cy + m * 0.7)} Z" '
                'fill="none" stroke="#1a1a1a"/>')
    return out


def _task_marker(s: Shape) -> str:
    x, y = s.box.x + 8, s.box.y + 8
    if s.kind == "userTask":
        return (f'<g class="marker" fill="none" stroke="#1a1a1a"><circle cx="{_f(x + 6)}" cy="{_f(y + 4)}" r="3.5"/>'
                f'<path d="M{_f(x)},{_f(y + 15)} q0,-7 6,-7 q6,0 6,7 z"/></g>')
    if s.kind == "businessRuleTask":
        return (f'<g class="marker" fill="none" stroke="#1a1a1a"><rect x="{_f(x)}" y="{_f(y)}" width="16" height="12"/>'
                f'<path d="M{_f(x)},{_f(y + 4)} h16 M{_f(x + 5)},{_f(y + 4)} v8"/></g>')
    if s.kind == "scriptTask":
        return (f'<path class="marker" d="M{_f(x + 3)},{_f(y)} h11 q-4,4 0,7 q4,4 0,7 h-11 q4,-3 0,-7 q-4,-4 0,-7 z" '
                'fill="none" stroke="#1a1a1a"/>')
    if s.kind == "serviceTask":
        return (f'<g class="marker" fill="none" stroke="#1a1a1a"><circle cx="{_f(x + 7)}" cy="{_f(y + 7)}" r="6" '
                f'stroke-dasharray="3 2" stroke-width="3"/><circle cx="{_f(x + 7)}" cy="{_f(y + 7)}" r="2.5"/></g>')
    if s.kind in ("sendTask", "receiveTask"):
        fill = "#1a1a1a" if s.kind == "sendTask" else "none"
        return (f'<g class="marker" stroke="#1a1a1a"><rect x="{_f(x)}" y="{_f(y)}" width="16" height="11" '
                f'fill="{fill}"/><path d="M{_f(x)},{_f(y)} l8,6 l8,-6" fill="none" '
                f'stroke="{"#fff" if fill != "none" else "#1a1a1a"}"/></g>')
    if s.kind == "manualTask":
        return (f'<path class="marker" d="M{_f(x)},{_f(y + 12)} v-6 l6,-4 h8 v3 h-5 h6 v3 h-6 h6 v3 h-6 h5 v3 z" '
                'fill="none" stroke="#1a1a1a"/>')
    return ""


def _loop(s: Shape) -> str:
    """BPMN's loop markers at the bottom centre: three vertical bars for parallel multi-instance,
    three horizontal for sequential, a circling arrow for a standard loop."""
    x, y = s.box.cx - 6, s.box.y + s.box.h - 16
    if s.loop == "parallel":
        return (f'<path class="marker loop parallel" d="M{_f(x + 1)},{_f(y)} v12 M{_f(x + 6)},{_f(y)} v12 '
                f'M{_f(x + 11)},{_f(y)} v12" stroke="#1a1a1a" stroke-width="2"/>')
    if s.loop == "sequential":
        return (f'<path class="marker loop sequential" d="M{_f(x)},{_f(y + 1)} h12 M{_f(x)},{_f(y + 6)} h12 '
                f'M{_f(x)},{_f(y + 11)} h12" stroke="#1a1a1a" stroke-width="2"/>')
    if s.loop == "standard":
        return (f'<path class="marker loop standard" d="M{_f(x + 3)},{_f(y + 11)} a6,6 0 1,1 6,0 l1,-4 m-1,4 '
                'l-4,-1" fill="none" stroke="#1a1a1a" stroke-width="1.5"/>')
    return ""


def _instances(s: Shape, counts: tuple[int, int] | None) -> str:
    """How many of a multi-instance step's instances are open, beside its marker ("1/2")."""
    if counts is None:
        return ""
    return (f'<text class="instances" x="{_f(s.box.cx + 10)}" y="{_f(s.box.y + s.box.h - 5)}" '
            f'font-size="{_f(FONT - 1)}">{counts[0]}/{counts[1]}</text>')


def _activity(s: Shape) -> str:
    b = s.box
    width = "4" if s.kind == "callActivity" else "1.5"
    out = (f'<rect class="shape" x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" height="{_f(b.h)}" rx="10" '
           f'{STROKE} stroke-width="{width}"/>')
    if s.kind == "transaction":
        out += (f'<rect x="{_f(b.x + 3)}" y="{_f(b.y + 3)}" width="{_f(b.w - 6)}" height="{_f(b.h - 6)}" rx="8" '
                'fill="none" stroke="#1a1a1a"/>')
    out += _task_marker(s) + _loop(s)
    if s.kind in ("subProcess", "callActivity", "transaction", "adHocSubProcess") and not s.expanded:
        mx, my = b.cx - 7, b.y + b.h - 16
        out += (f'<rect x="{_f(mx)}" y="{_f(my)}" width="14" height="14" fill="none" stroke="#1a1a1a"/>'
                f'<path d="M{_f(mx + 3)},{_f(my + 7)} h8 M{_f(mx + 7)},{_f(my + 3)} v8" stroke="#1a1a1a"/>')
    if s.expanded:
        out += _text(wrap(s.name, b.w - 20, FONT, 2), b.x + 10, b.y + 4, anchor="start")
    elif s.name:
        inner = Box(b.x + 4, b.y + (16 if _task_marker(s) else 2), b.w - 8, b.h - (22 if _task_marker(s) else 4))
        out += _centered(s.name, inner)
    return out


def _gateway(s: Shape) -> str:
    b = s.box
    pts = f"{_f(b.cx)},{_f(b.y)} {_f(b.x + b.w)},{_f(b.cy)} {_f(b.cx)},{_f(b.y + b.h)} {_f(b.x)},{_f(b.cy)}"
    out = f'<polygon class="shape" points="{pts}" {STROKE} stroke-width="1.5"/>'
    m = min(b.w, b.h) * 0.22
    cx, cy = b.cx, b.cy
    if s.kind == "exclusiveGateway" and s.gateway_marker:
        out += (f'<path d="M{_f(cx - m)},{_f(cy - m)} L{_f(cx + m)},{_f(cy + m)} M{_f(cx + m)},{_f(cy - m)} '
                f'L{_f(cx - m)},{_f(cy + m)}" stroke="#1a1a1a" stroke-width="3"/>')
    elif s.kind == "parallelGateway":
        out += (f'<path d="M{_f(cx - m * 1.2)},{_f(cy)} h{_f(m * 2.4)} M{_f(cx)},{_f(cy - m * 1.2)} v{_f(m * 2.4)}" '
                'stroke="#1a1a1a" stroke-width="3"/>')
    elif s.kind == "inclusiveGateway":
        out += (f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(m * 1.2)}" fill="none" stroke="#1a1a1a" '
                'stroke-width="2.5"/>')
    elif s.kind == "eventBasedGateway":
        out += (f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(m * 1.3)}" fill="none" stroke="#1a1a1a"/>'
                f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(m * 1.05)}" fill="none" stroke="#1a1a1a"/>')
    elif s.kind == "complexGateway":
        out += (f'<path d="M{_f(cx - m)},{_f(cy)} h{_f(2 * m)} M{_f(cx)},{_f(cy - m)} v{_f(2 * m)} '
                f'M{_f(cx - m * .7)},{_f(cy - m * .7)} l{_f(m * 1.4)},{_f(m * 1.4)} '
                f'M{_f(cx + m * .7)},{_f(cy - m * .7)} '
                f'l{_f(-m * 1.4)},{_f(m * 1.4)}" stroke="#1a1a1a" stroke-width="2.5"/>')
    return out


def _container(s: Shape, label: str) -> str:
    b = s.box
    out = f'<rect class="shape" x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" height="{_f(b.h)}" {STROKE}/>'
    if not label:
        return out
    if s.horizontal:
        if s.kind == "participant":
            out += (f'<line x1="{_f(b.x + BAND)}" y1="{_f(b.y)}" x2="{_f(b.x + BAND)}" y2="{_f(b.y + b.h)}" '
                    'stroke="#1a1a1a"/>')
        lines = wrap(label, b.h - 10, FONT, 2)
        cx, cy = b.x + BAND / 2, b.cy
        height = len(lines) * FONT * 1.2
        spans = "".join(f'<tspan x="{_f(cx)}" dy="{_f(FONT * 1.2 if i else FONT)}">{escape(t)}</tspan>'
                        for i, t in enumerate(lines))
        out += (f'<text class="lane-label" x="{_f(cx)}" y="{_f(cy - height / 2)}" font-size="{FONT}" '
                f'text-anchor="middle" fill="#1a1a1a" transform="rotate(-90 {_f(cx)} {_f(cy)})">{spans}</text>')
    else:
        out += _text(wrap(label, b.w - 10, FONT, 2), b.cx, b.y + 4)
    return out


def _data(s: Shape) -> str:
    b = s.box
    if s.kind == "dataStoreReference":
        e = min(8.0, b.h / 5)
        return (f'<path class="shape" d="M{_f(b.x)},{_f(b.y + e)} a{_f(b.w / 2)},{_f(e)} 0 0 1 {_f(b.w)},0 '
                f'v{_f(b.h - 2 * e)} a{_f(b.w / 2)},{_f(e)} 0 0 1 {_f(-b.w)},0 z M{_f(b.x)},{_f(b.y + e)} '
                f'a{_f(b.w / 2)},{_f(e)} 0 0 0 {_f(b.w)},0" {STROKE}/>')
    c = min(10.0, b.w / 3)
    return (f'<path class="shape" d="M{_f(b.x)},{_f(b.y)} h{_f(b.w - c)} l{_f(c)},{_f(c)} v{_f(b.h - c)} '
            f'h{_f(-b.w)} z M{_f(b.x + b.w - c)},{_f(b.y)} v{_f(c)} h{_f(c)}" {STROKE}/>')


def _annotation(s: Shape) -> str:
    b = s.box
    out = (f'<path class="shape" d="M{_f(b.x + 10)},{_f(b.y)} h-10 v{_f(b.h)} h10" fill="none" '
           'stroke="#1a1a1a"/>')
    lines = wrap(s.name, b.w - 8, FONT, max(1, int(b.h / (FONT * 1.2))))
    return out + _text(lines, b.x + 5, b.y + 2, anchor="start")


def _external_label(s: Shape) -> str:
    if not s.name:
        return ""
    box = s.label or Box(s.box.cx - 50, s.box.y + s.box.h + 6, 100, FONT * 3.6)
    return _text(wrap(s.name, max(box.w, 60), FONT - 1, 4), box.cx, box.y, FONT - 1)


def _edge(e: Edge, cls: str, uid: str) -> str:
    d = "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in e.points)
    taken = "-taken" if cls else ""
    if e.kind == "sequenceFlow":
        start = f' marker-start="url(#{uid}-diamond)"' if e.conditional_start else ""
        attrs = f'stroke="#1a1a1a" stroke-width="1.5" marker-end="url(#{uid}-arrow{taken})"{start}'
    elif e.kind == "messageFlow":
        attrs = (f'stroke="#1a1a1a" stroke-width="1.5" stroke-dasharray="8 5" marker-start="url(#{uid}-circle)" '
                 f'marker-end="url(#{uid}-open)"')
    else:
        attrs = 'stroke="#1a1a1a" stroke-dasharray="2 4"'
        if e.kind == "dataOutputAssociation":
            attrs += f' marker-end="url(#{uid}-open)"'
    out = f'<path class="line" d="{d}" fill="none" {attrs}/>'
    if e.name:
        if e.label is not None:
            box = e.label
        else:
            (x1, y1), (x2, y2) = e.points[0], e.points[1]
            box = Box((x1 + x2) / 2 - 45, (y1 + y2) / 2 - FONT * 1.6, 90, FONT * 1.4)
        out += _text(wrap(e.name, max(box.w, 60), FONT - 1, 3), box.cx, box.y, FONT - 1)
    return out


def _defs(uid: str) -> str:
    def arrow(name: str, colour: str) -> str:
        return (f'<marker id="{uid}-{name}" viewBox="0 0 20 20" refX="11" refY="10" markerWidth="10" '
                f'markerHeight="10" orient="auto"><path d="M 1 5 L 11 10 L 1 15 Z" fill="{colour}" '
                f'stroke="{colour}"/></marker>')

    return ("<defs>" + arrow("arrow", "#1a1a1a") + arrow("arrow-taken", "#1b6e2a")
            + f'<marker id="{uid}-open" viewBox="0 0 20 20" refX="11" refY="10" markerWidth="10" markerHeight="10" '
            'orient="auto"><path d="M 1 5 L 11 10 L 1 15" fill="none" stroke="#1a1a1a"/></marker>'
            + f'<marker id="{uid}-circle" viewBox="0 0 20 20" refX="6" refY="6" markerWidth="8" markerHeight="8" '
            'orient="auto"><circle cx="6" cy="6" r="3.5" fill="#fff" stroke="#1a1a1a"/></marker>'
            + f'<marker id="{uid}-diamond" viewBox="0 0 20 20" refX="0" refY="10" markerWidth="10" markerHeight="10" '
            'orient="auto"><path d="M 0 10 L 8 5 L 16 10 L 8 15 Z" fill="#fff" stroke="#1a1a1a"/></marker>'
            + "</defs>")


def render(layout: Layout, *, highlight: Highlight | None = None, lane_labels: Mapping[str, str] | None = None,
           title: str = "", description: str = "", uid: str = "d", states: Mapping[str, str] | None = None,
           captions: Mapping[str, str] | None = None) -> Markup:
    """The SVG markup. `lane_labels` maps lane names (role codes) to what to show; `states` maps an
    element id to a tooltip suffix (e.g. "đang xử lý"); `captions`, a call activity to the fragment
    version it runs (api/web/fragment_marks.py), written under its box and in its tooltip."""
    hl = highlight or Highlight()
    labels = lane_labels or {}
    tips = states or {}
    b = layout.bounds
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bpmn" role="img" aria-labelledby="{uid}-title {uid}-desc" '
        f'viewBox="{_f(b.x)} {_f(b.y)} {_f(b.w)} {_f(b.h)}" width="{_f(b.w)}" height="{_f(b.h)}" '
        f'font-family="DejaVu Sans, Arial, sans-serif">',
        f'<title id="{uid}-title">{escape(title)}</title><desc id="{uid}-desc">{escape(description)}</desc>',
        _defs(uid),
    ]
    nodes: list[str] = []
    containers: list[str] = []
    for s in layout.shapes:
        state = hl.node_class(s.element)
        classes = f"node {s.kind}" + (f" {state}" if state else "")
        tip = clip(s.name) or s.element
        caption = (captions or {}).get(s.element)
        if caption:
            tip = f"{tip} — {clip(caption)}"
        if s.element in tips:
            tip = f"{tip} ({tips[s.element]})"
        head = (f'<g class="{classes}" data-element-id="{escape(s.element)}" data-kind="{escape(s.kind)}">'
                f"<title>{escape(tip)}</title>")
        if s.kind in ("participant", "lane"):
            containers.append(head + _container(s, labels.get(s.name, s.name)) + "</g>")
        elif s.kind in ACTIVITIES and s.expanded:  # an expanded sub-process: beneath its content and flows
            containers.append(head + _activity(s) + "</g>")
        elif s.kind in EVENTS:
            nodes.append(head + _event(s) + _external_label(s) + "</g>")
        elif s.kind in ACTIVITIES:
            below = _text(wrap(caption, s.box.w + 40, FONT - 2, 2), s.box.cx, s.box.y + s.box.h + 2, FONT - 2,
                          "caption") if caption else ""
            nodes.append(head + _activity(s) + _instances(s, hl.instances.get(s.element)) + below + "</g>")
        elif s.kind in GATEWAYS:
            nodes.append(head + _gateway(s) + _external_label(s) + "</g>")
        elif s.kind in ("dataObjectReference", "dataStoreReference", "dataObject"):
            nodes.append(head + _data(s) + _external_label(s) + "</g>")
        elif s.kind == "textAnnotation":
            nodes.append(head + _annotation(s) + "</g>")
        elif s.kind == "group":
            containers.append(head + f'<rect x="{_f(s.box.x)}" y="{_f(s.box.y)}" width="{_f(s.box.w)}" '
                              f'height="{_f(s.box.h)}" rx="10" fill="none" stroke="#1a1a1a" '
                              'stroke-dasharray="8 4 2 4"/></g>')
    edges = []
    for e in layout.edges:
        cls = "taken" if e.element in hl.flows else ""
        edges.append(f'<g class="edge {e.kind}{" " + cls if cls else ""}" data-element-id="{escape(e.element)}">'
                     + _edge(e, cls, uid) + "</g>")
    parts += containers + edges + nodes + ["</svg>"]
    return Markup("".join(parts))


def lanes_in(layout: Layout) -> Iterable[str]:
    return (s.name for s in layout.shapes if s.kind == "lane")

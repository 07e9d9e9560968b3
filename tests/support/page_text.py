"""What a reader sees of a page, and what must never be in it on a Vietnamese page.

Visible text = the HTML without <script>/<style> elements, comments and tags (attributes go with
their tags), entities decoded, spaces collapsed. SVG <title>/<text> stay: a chart's labels and
tooltips are read too.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

from config.settings import ROOT

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DURATION = re.compile(r"(?<![\w/])P(?:\d+[YMWD])*(?:T(?:\d+[HMS])+)?(?![\w/])")
CLOCK_CODE = re.compile(r"\b(?:run|paused)\s*/\s*(?:run|paused)\b|\bclock\s*[:=]\s*(?:run|paused)\b")
SNAKE = re.compile(r"(?<![\w./:-])[a-z]+(?:_[a-z0-9]+)+(?![\w./-])")


def visible_text(page: str) -> str:
    page = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    page = re.sub(r"(?s)<[^>]*>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page)).strip()


def _literal_pieces(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if isinstance(node, ast.BinOp):
        return _literal_pieces(node.left) + _literal_pieces(node.right)
    return []


def engine_english() -> set[str]:
    """Fixed English fragments of the engine's refusal messages and scheduler reasons, read from its source.

    Every `refuse(kind, code, message)`, `Refusal(kind, code, message)` and every `"reason": ...` in a
    payload the engine writes: the literal parts of the message (between the f-string's fields) that
    are long enough to be recognisable English (3 words or more).
    """
    fragments: set[str] = set()
    for path in (ROOT / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            texts: list[ast.expr] = []
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in ("refuse", "Refusal") and len(node.args) >= 3:
                    texts.append(node.args[2])
            if isinstance(node, ast.Dict):
                texts += [v for k, v in zip(node.keys, node.values, strict=True)
                          if isinstance(k, ast.Constant) and k.value == "reason" and v is not None]
            for t in texts:
                for piece in _literal_pieces(t):
                    piece = piece.strip(" :;,.'\"")
                    if len(piece.split()) >= 3:
                        fragments.add(piece)
    return fragments


def refusal_codes_in_engine() -> set[str]:
    """Every refusal code the engine's source can raise (`Invalid("code", …)` and the other refusal types of
    engine/errors.py, `Refusal(kind, "code", …)`, the older `refuse(kind, "code", …)`)."""
    typed = {"Forbidden", "NotFound", "Conflict", "Stale", "Invalid"}
    codes: set[str] = set()
    for path in (ROOT / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # a subclass of a refusal type names its code to the base's __init__ (ProcedureIncident)
        inits = {id(n) for c in ast.walk(tree) if isinstance(c, ast.ClassDef)
                 and {getattr(b, "id", "") for b in c.bases} & typed
                 for n in ast.walk(c) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "__init__"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                position = 0 if name in typed or id(node) in inits else 1 if name in ("refuse", "Refusal") else None
                if position is not None and len(node.args) > position:
                    code = node.args[position]
                    if isinstance(code, ast.Constant) and isinstance(code.value, str):
                        codes.add(code.value)
    return codes


def source_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))

"""How much text a procedure file may hold where landflow shows or runs it.

A 1.9 MB step name was deployed, and every page of a dossier of that procedure then took 24 s (names
are drawn in the diagram, listed in worklists, copied into events). A DMN input entry is rewritten by
SpiffWorkflow at every evaluation with a regular expression that looks ahead to the end of the text
from each `?` (quadratic), for every entry of every rule. So the checker refuses, naming the element:

- ids over MAX_ID, names over MAX_NAME characters (every element: steps, flows, lanes, events, the
  process, DMN decisions and rules), any other attribute (a property's value: a form, a legal basis)
  over MAX_ATTRIBUTE, and any element's text (documentation, annotations) over MAX_TEXT; conditions and
  scripts have their own, smaller limit (engine/expressions.py, 4,000 characters);
- a decision table with more than MAX_DMN_ENTRIES input entries, an entry longer than MAX_DMN_ENTRY
  characters or with more than MAX_DMN_MARKS `?` in it.

These are conventions of the file, not settings of a server: a procedure that deploys on one server
must deploy on every other (docs/decisions/0029-procedure-text-caps.md).
"""

from __future__ import annotations

from lxml import etree

from .problems import Problem

MAX_ID = 200
MAX_NAME = 500
MAX_ATTRIBUTE = 4_000
MAX_TEXT = 20_000
MAX_DMN_ENTRIES = 1_000   # input entries of one decision table (rules × inputs)
MAX_DMN_ENTRY = 500       # characters of one input entry
MAX_DMN_MARKS = 5         # `?` in one input entry
SIZE_RULES = frozenset({"element.id", "element.name", "element.text", "dmn.size"})


def _owner(el: etree._Element, fallback: str) -> str:
    """The id of the element or of its nearest ancestor that has a usable one."""
    for node in (el, *el.iterancestors()):
        eid = node.get("id")
        if eid and len(eid) <= MAX_ID:
            return eid
    return fallback


def _local(el: etree._Element) -> str:
    return etree.QName(el.tag).localname


def text_rules(root: etree._Element, file: str) -> list[Problem]:
    """Every id, name, attribute and text of the document over its cap, as a problem naming the element."""
    out: list[Problem] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = _local(el)
        for attr, value in el.attrib.items():
            what = etree.QName(attr).localname
            cap = MAX_ID if what == "id" else MAX_NAME if what == "name" else MAX_ATTRIBUTE
            if len(value) > cap:
                rule = f"element.{what}" if what in ("id", "name") else "element.text"
                subject = f"property {el.get('name', '')[:40]!r}" if local == "property" else f"the {what} of a {local}"
                out.append(Problem(_owner(el, file), rule, f"{subject} has {len(value)} characters; at most {cap}"))
        if el.text is not None and len(el.text) > MAX_TEXT:
            out.append(Problem(_owner(el, file), "element.text",
                               f"the {local} text has {len(el.text)} characters; at most {MAX_TEXT}"))
    return out


def decision_size_rules(decision: etree._Element) -> list[Problem]:
    """A decision table SpiffWorkflow can evaluate in bounded time (the `?` rewrite is quadratic)."""
    did = _owner(decision, "dmn")
    ns = etree.QName(decision.tag).namespace
    entries = list(decision.iter(f"{{{ns}}}inputEntry"))
    out: list[Problem] = []
    if len(entries) > MAX_DMN_ENTRIES:
        out.append(Problem(did, "dmn.size", f"the decision table has {len(entries)} input entries (rules × "
                                            f"inputs); at most {MAX_DMN_ENTRIES}"))
    for entry in entries[:MAX_DMN_ENTRIES]:
        text = "".join(entry.itertext()).strip()
        if len(text) > MAX_DMN_ENTRY:
            out.append(Problem(_owner(entry, did), "dmn.input",
                               f"the input entry has {len(text)} characters; at most {MAX_DMN_ENTRY}"))
        elif text.count("?") > MAX_DMN_MARKS:
            out.append(Problem(_owner(entry, did), "dmn.input",
                               f"the input entry has {text.count('?')} '?'; at most {MAX_DMN_MARKS}"))
    return out

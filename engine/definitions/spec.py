"""SpiffWorkflow's side of a procedure: parse to a spec, serialise it once per version.

The spec is stored once per procedure version (content-addressed); dossier snapshots hold only
task state and data, and get the spec re-attached on load (TRAPS.md: the spec is half a snapshot).
"""

from __future__ import annotations

import json
import re
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask

from .problems import Problem
from .reader import _decision_ref


class _DecisionRefParser(BusinessRuleTaskParser):
    """Accept the decision reference of SpiffArena, Camunda 7 and Camunda 8 modelers."""

    @staticmethod
    def get_decision_ref(node: etree._Element) -> str | None:
        return _decision_ref(node)


_OVERRIDES = dict(SpiffBpmnParser.OVERRIDE_PARSER_CLASSES)
_OVERRIDES[full_tag("businessRuleTask")] = (_DecisionRefParser, BusinessRuleTask)


class ProcedureParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = _OVERRIDES


def make_serializer() -> BpmnWorkflowSerializer:
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


SERIALIZER = make_serializer()


def compile_spec(
    key: str, bpmn: etree._Element, dmns: list[etree._Element], called: list[etree._Element] | None = None,
) -> tuple[tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]] | None, list[Problem]]:
    """Parse with SpiffWorkflow; every parser complaint becomes a problem naming its element.
    `called`: the fragment files its call activities are bound to (engine/definitions/fragments.py)."""
    parser = ProcedureParser()
    try:
        for i, dmn in enumerate(dmns):
            parser.add_dmn_xml(dmn, filename=f"decision-{i}.dmn")
        for i, fragment in enumerate(called or []):
            parser.add_bpmn_xml(fragment.getroottree(), filename=f"fragment-{i}.bpmn")
        parser.add_bpmn_xml(bpmn.getroottree(), filename=f"{key}.bpmn")
        spec = parser.get_spec(key)
        subs = parser.get_subprocess_specs(key)
    except ValidationException as err:
        element = getattr(err, "id", "") or key
        return None, [Problem(element, "spiff.parse", _message(err))]
    except SpiffWorkflowException as err:
        return None, [Problem(key, "spiff.parse", _message(err))]
    except KeyError as err:
        return None, [Problem(key, "spiff.parse", f"the file refers to {plain(repr(err.args[0]) if err.args else '')}"
                                                  ", which it does not define")]
    except (ValueError, TypeError, AttributeError, IndexError, SyntaxError) as err:
        return None, [Problem(key, "spiff.parse", f"SpiffWorkflow cannot read the file: {_message(err)}")]
    return (spec, subs), []


# What SpiffWorkflow and lxml put in their messages that a supervisor cannot read: object reprs.
_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>")
_OBJECT_REPR = re.compile(r"<([\w.]+?)(?: object)? at 0x[0-9a-fA-F]+>")
MAX_MESSAGE = 500


def plain(text: str) -> str:
    """A message without Python object reprs, on one line, and whole sentences only: cut at the last
    sentence that fits, never in the middle of one."""
    text = _ELEMENT_REPR.sub(lambda m: f"({m[1]} element)", text)
    text = _OBJECT_REPR.sub(lambda m: f"a {m[1].rsplit('.', 1)[-1]}", text)
    text = " ".join(text.split())
    if len(text) <= MAX_MESSAGE:
        return text
    cut = max(text.rfind(". ", 0, MAX_MESSAGE), text.rfind("; ", 0, MAX_MESSAGE))
    if cut > 0:
        return text[:cut + 1]
    return text[:text.rfind(" ", 0, MAX_MESSAGE - 25)] + " (the rest of the message is left out)"


def _message(err: Exception) -> str:
    return plain(str(err.args[0]) if err.args else type(err).__name__)


def spec_to_json(spec: BpmnProcessSpec, subs: dict[str, BpmnProcessSpec]) -> str:
    payload = {
        "spec": SERIALIZER.to_dict(spec),
        "subprocess_specs": {name: SERIALIZER.to_dict(s) for name, s in subs.items()},
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def spec_from_json(text: str) -> dict[str, Any]:
    return json.loads(text)

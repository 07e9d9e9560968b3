"""The procedure checker's problems in the reader's language (decision 0139).

The checker (engine/definitions) says each problem in English for the API's `problems` and names its
rule; pages never show that English: they render the rule here through the Babel catalogs. `RULE` has
one sentence per rule — what is wrong and what to do — so every problem reads in Vietnamese even
without details; `DETAIL` says more for the rules whose problems carry parameters (`Problem.params`).
tests/web/test_lint_messages.py fails when a rule of the engine has no sentence here.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from engine.definitions.problems import Problem

from .messages import english

RULE = {
    "xml.type": _l("The file must be sent as a file."),
    "xml.size": _l("The file is larger than the size allowed for a procedure file."),
    "xml.syntax": _l("The file is not well-formed XML: open it again in the modeler and save it."),
    "xml.encoding": _l("The file's character encoding cannot be read: save it as UTF-8, or declare its encoding "
                       "(for example windows-1258) in the XML declaration."),
    "xml.doctype": _l("DOCTYPE and ENTITY declarations are not allowed in a procedure file."),
    "xml.entity": _l("Entity references are not allowed in a procedure file."),
    "xml.xinclude": _l("XInclude is not allowed: a procedure file must be self-contained."),
    "bpmn.root": _l("This is not a BPMN file (its root element must be bpmn:definitions)."),
    "dmn.root": _l("This decision file is not a DMN file."),
    "process.missing": _l("The file has no process."),
    "process.executable": _l("The process is not executable: set isExecutable=\"true\"."),
    "process.count": _l("One procedure is one executable process; this file has several."),
    "process.id": _l("The process id is the procedure code: lowercase letters, digits and '_' (for example "
                     "land_transfer)."),
    "process.name": _l("The process needs a Vietnamese name."),
    "process.sla": _l("The statutory time limit of the procedure is missing or is not working time (for example "
                      "P8D)."),
    "process.legal_basis": _l("Cite the legal basis of the procedure's time limit."),
    "process.remote_extension": _l("The extra time for remote communes is not working time (for example P10D)."),
    "process.papers": _l("A paper of the reception list is not written as 'required | name | legal basis'."),
    "process.sla_field": _l("A conditional time limit (sla_<field>) must be working time and name a required "
                            "yes/no field of a step's form."),
    "process.jurisdiction_from": _l("The field named for the old commune is not a field of any step's form."),
    "step.owner": _l("The step has no owner: put it in a lane named with a role code."),
    "step.role": _l("The step's role is not a role of the organisation."),
    "step.sla": _l("The step's time limit is missing or is not working time (for example P3D or PT4H)."),
    "step.clock": _l("The step's clock must be 'run' or 'paused'."),
    "step.form": _l("The step's form is not written correctly (fields name:type separated by ';')."),
    "step.refusal": _l("The step's refusal choice or its reason field is not set correctly."),
    "step.documents": _l("The step's result documents must be register_page and/or issuance_record, separated by "
                         "'|', and only on a signed step."),
    "lane.role": _l("The lane's name is not a role code of the organisation."),
    "di.absent": _l("The file has no diagram: every procedure must be drawn."),
    "di.missing": _l("This element has no shape in the diagram: draw it in the modeler."),
    "condition.empty": _l("The condition of this flow is empty."),
    "condition.unsafe": _l("The condition is not in landflow's expression language, or uses what it does not "
                           "allow."),
    "condition.camunda": _l("The condition is written in Camunda's expression language: write a plain expression."),
    "script.missing": _l("The script task has no script."),
    "script.unsafe": _l("The script uses what landflow's expression language does not allow."),
    "timer.unsupported": _l("Only timer durations are supported."),
    "timer.duration": _l("The timer's duration must be a quoted working-time duration such as 'P3D'."),
    "element.unsupported": _l("This kind of BPMN element is not supported in a landflow procedure."),
    "element.loop": _l("This loop is not supported: only a user task consulting several agencies in parallel "
                       "(parallel multi-instance) is; otherwise draw a gateway back to the step."),
    # parallel multi-instance steps (decision 0163)
    "multi_instance.owners": _l("A step consulting several agencies names them in its property 'instances' as role "
                                "codes (for example tax_office|commune_economic_division), and only such a step "
                                "names them."),
    "multi_instance.collection": _l("A step consulting several agencies needs loopDataInputRef (the list of "
                                    "agencies) and inputDataItem (each one's agency), named apart from form fields."),
    "multi_instance.output": _l("A step consulting several agencies collects each answer: loopDataOutputRef names "
                                "the collection and outputDataItem a required field of the step's form."),
    "element.task": _l("A plain task cannot be done by any officer: make it a user task (with an owner and a time "
                       "limit) or a script task."),
    "element.id": _l("The element's id is too long."),
    "element.name": _l("The element's name is too long."),
    "element.text": _l("A text or property of this element is too long."),
    "event.unsupported": _l("Nothing can trigger this event in landflow: a dossier reaching it would wait for "
                            "ever."),
    "message.name": _l("The message has no name: the name is what the other agency sends it by."),
    "message.duplicate": _l("Two messages have the same name: give each message its own name."),
    "message.ref": _l("The message event names no message of the file: nothing could ever deliver it."),
    "message.from_role": _l("Say with a known role code which agency delivers the message (property from_role, "
                            "for example tax_office)."),
    "message.form": _l("The message's form is not written as 'name:type' fields (for example amount:number!)."),
    "message.clock": _l("The message's clock is either 'run' or 'paused'."),
    "flow.dangling": _l("The flow does not connect two elements of the process."),
    "flow.start": _l("A procedure has exactly one start event."),
    "flow.end": _l("No end event can be reached from the start."),
    "flow.unreachable": _l("This element cannot be reached from the start."),
    "flow.dead_end": _l("This element has no outgoing flow."),
    "flow.refusal": _l("This path ends the dossier without its result in a way the rules for refusals do not "
                       "allow."),
    "gateway.condition": _l("A flow leaving this gateway has no condition and is not its default."),
    "gateway.default": _l("The gateway's default flow names no flow leaving the gateway."),
    "rule.decision": _l("The business rule task names no decision deployed with it."),
    "dmn.size": _l("The decision table is too large."),
    "dmn.input": _l("An input of the decision table is not in landflow's expression language."),
    "dmn.output": _l("An output of the decision table is not in landflow's expression language."),
    "end.continues": _l("The property 'continues' of an end event is 'true' or 'false'."),
    "end.outcome": _l("The end event's outcome is missing or is neither 'result' nor 'refusal'."),
    "spiff.parse": _l("The BPMN engine cannot read this element: check it in the modeler."),
    "id.duplicate": _l("Several elements have the same id: every id in a file must be unique."),
    "message_flow.dangling": _l("The message flow names no element of the file."),
    "boundary.attached": _l("The boundary event is attached to no element of the process."),
    "budget.path": _l("Along one path the steps whose clock runs take longer than the procedure's time limit."),
    "budget.paths": _l("The procedure has too many paths: the time budget was checked on the first ones only."),
    # embedded sub-processes (engine/definitions/subprocess.py, decision 0157)
    "subprocess.start": _l("A sub-process has exactly one start event without a trigger inside it."),
    "subprocess.end": _l("No end event inside the sub-process can be reached from its start."),
    "subprocess.crossing": _l("A sequence flow cannot cross the border of a sub-process: connect to the "
                              "sub-process itself."),
    "subprocess.collapsed": _l("Draw the sub-process expanded, with its steps inside its box."),
    "subprocess.limit": _l("The procedure has too many sub-processes, or nests them too deep: at most 10, nested "
                           "at most 3 deep."),
    "call.count": _l("The file calls too many different fragments."),
    "call.element": _l("The call activity names no fragment: set its called element to a fragment's code."),
    "fragment.missing": _l("The call activity names a fragment that is not deployed: deploy the fragment first."),
    "fragment.cycle": _l("A fragment cannot call itself, directly or through another fragment."),
    "fragment.step_clash": _l("The fragment has steps with the same ids as this procedure's: rename them."),
    "fragment.versions": _l("Two fragments called here run different versions of the same fragment: deploy the "
                            "older one again so that it uses the version in force."),
}
DETAIL = {
    "step.owner": _l("The step “%(name)s” has no owner: put it in a lane named with a role code."),
    "step.role": _l("The role “%(role)s” is not a role of the organisation (roles: %(known)s)."),
    "lane.role": _l("The lane “%(role)s” is not named with a role code of the organisation (roles: %(known)s)."),
    "flow.unreachable": _l("“%(name)s” cannot be reached from the start."),
    "flow.dead_end": _l("“%(name)s” has no outgoing flow."),
    "budget.path": _l("Along the path %(path)s the steps whose clock runs take %(spent)s (%(steps)s), more than "
                      "the limit %(limit)s (%(limit_name)s): shorten a step, pause a clock the law excludes, or "
                      "correct the limit."),
    "id.duplicate": _l("The id “%(id)s” is used by %(n)s elements: every id in a file must be unique."),
    "gateway.default": _l("The default flow “%(default)s” is not a flow leaving this gateway."),
    "message_flow.dangling": _l("The message flow names “%(ref)s”, which is no element of the file."),
    "element.task": _l("“%(name)s” is a plain task, which no officer can do: make it a user task (with an owner "
                       "and a time limit) or a script task."),
    "condition.camunda": _l("The condition “%(text)s” is written in Camunda's expression language; write "
                            "“%(hint)s”."),
    "boundary.attached": _l("The boundary event is attached to “%(ref)s”, which is no element of the process."),
    "condition.unsafe": _l("The condition “%(text)s” is not in landflow's expression language, or uses what it "
                           "does not allow (functions, imports, attributes)."),
    "fragment.missing": _l("No fragment “%(fragment)s” is deployed: deploy it first (a process with the property "
                           "fragment=true)."),
    "fragment.cycle": _l("The fragment “%(fragment)s” would call this process again: a fragment cannot call itself."),
    "fragment.step_clash": _l("The fragment “%(fragment)s” has steps with the same ids as this procedure's: "
                              "%(steps)s."),
}
UNKNOWN = _l("The procedure file breaks one of landflow's rules.")


def _rendered(rule: str, params: Mapping[str, str]) -> dict[str, str]:
    """Parameters in words: working-time durations as "2 ngày làm việc", a path's steps one by one."""
    from .i18n import duration

    out = dict(params)
    if rule == "budget.path":
        out["spent"] = duration(params.get("spent"))
        out["limit"] = duration(params.get("limit"))
        steps = [part.partition(":") for part in params.get("steps", "").split("|") if part]
        out["steps"] = " + ".join(f"{step} {duration(sla)}" for step, _sep, sla in steps)
    return out


def problem_text(problem: Problem) -> str:
    """What a page shows for a problem: the engine's English only when the reader reads English."""
    if english():
        return problem.message
    params = dict(problem.params)
    detail = DETAIL.get(problem.rule)
    if detail is not None and params:
        try:
            return str(detail) % _rendered(problem.rule, params)
        except (KeyError, ValueError):
            pass
    return str(RULE.get(problem.rule, UNKNOWN))

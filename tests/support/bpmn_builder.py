"""The BPMN builder lives in bench/ (the benches build procedures too, and bench must not import tests)."""

from bench.bpmn_builder import (
           NS,
           SIZES,
           TAGS,
           Flow,
           MultiInstance,
           Node,
           Procedure,
           agencies_procedure,
           consultation_procedure,
           message_procedure,
           message_xml,
           posting_procedure,
           reminder_procedure,
           render,
           small_procedure,
           timer_procedure,
           timer_xml,
)

__all__ = ["NS", "SIZES", "TAGS", "Flow", "MultiInstance", "Node", "Procedure", "agencies_procedure",
           "consultation_procedure", "message_procedure",
           "message_xml", "posting_procedure", "reminder_procedure", "render", "small_procedure", "timer_procedure",
           "timer_xml"]

"""Procedure definitions: read, validate and lint BPMN/DMN; the versioned registry."""

from .forms import FormError, FormField, clean_submission, parse_form
from .model import FlowMeta, NodeMeta, ProcedureMeta, StepMeta
from .problems import DefinitionRefused, Problem
from .validate import CheckedProcedure, check, content_hash

__all__ = [
    "CheckedProcedure", "DefinitionRefused", "FlowMeta", "FormError", "FormField", "NodeMeta", "Problem",
    "ProcedureMeta", "StepMeta", "check", "clean_submission", "content_hash", "parse_form",
]

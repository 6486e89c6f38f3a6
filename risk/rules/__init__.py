"""Analyst rules: `{action} if {condition}` over an order's fields, features and scores, and lists.

The language (grammar, attributes, missing values) is documented in the README,
section "Rules language". Compiled once into an online and a batch evaluator.
"""

from risk.contract import Verdict
from risk.rules.compile import CompiledRule, compile_rule
from risk.rules.errors import RuleError
from risk.rules.lists import ListItem, ListKind, ListSnapshot, NamedList
from risk.rules.online import RuleInputs
from risk.rules.ruleset import BatchResult, RuleSet, RuleSetResult, RuleSpec

__all__ = [
    "BatchResult", "CompiledRule", "ListItem", "ListKind", "ListSnapshot", "NamedList", "RuleError", "RuleInputs",
    "RuleSet", "RuleSetResult", "RuleSpec", "Verdict", "compile_rule",
]

"""The rule language's grammar: `{action} if {condition}`, parsed by lark (LALR) into a tree.

One expression grammar covers conditions and values (a parenthesised condition and a
parenthesised sum start alike, which LALR(1) could not tell apart otherwise); which
is which is checked afterwards, with types (risk.rules.check). Nothing is evaluated
here, and nothing is ever passed to `eval`/`exec`.
"""

from __future__ import annotations

from lark import Lark, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from risk.rules.errors import RuleError

GRAMMAR = r"""
start: ACTION _IF expr

?expr: or_expr
?or_expr: and_expr (_OR and_expr)*             -> or_
?and_expr: not_expr (_AND not_expr)*           -> and_
?not_expr: _NOT not_expr                       -> not_
         | predicate
?predicate: sum
          | sum COMPARE sum                    -> compare
          | sum _IN _LPAR values _RPAR         -> in_values
          | sum _NOT _IN _LPAR values _RPAR    -> not_in_values
          | sum _IN LIST                       -> in_list
          | sum _NOT _IN LIST                  -> not_in_list
          | sum _CONTAINS sum                  -> contains
          | sum _IS _MISSING                   -> is_missing
          | sum _IS _NOT _MISSING              -> is_not_missing
?sum: product
    | sum ADD product                          -> arith
?product: unary
        | product MUL unary                    -> arith
?unary: atom
      | SUB unary                              -> neg
?atom: NUMBER                                  -> number
     | STRING                                  -> string
     | TRUE                                    -> true
     | FALSE                                   -> false
     | NAME                                    -> attribute
     | _LPAR expr _RPAR
values: value (_COMMA value)* _COMMA?
?value: NUMBER                                 -> number
      | SUB NUMBER                             -> negative_number
      | STRING                                 -> string
      | TRUE                                   -> true
      | FALSE                                  -> false

ACTION: "approve" | "review" | "decline"
_IF: "if"
_OR: "or"
_AND: "and"
_NOT: "not"
_IN: "in"
_IS: "is"
_MISSING: "missing"
_CONTAINS: "contains"
TRUE: "true"
FALSE: "false"
COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">"
ADD: "+" | SUB
SUB: "-"
MUL: "*" | "/"
_LPAR: "("
_RPAR: ")"
_COMMA: ","
LIST: "@" /[a-z][a-z0-9_]*/
NAME: /[a-z_][a-z0-9_]*/
NUMBER: /[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/
STRING: /"[^"\\\n]*(\\.[^"\\\n]*)*"/ | /'[^'\\\n]*(\\.[^'\\\n]*)*'/

%import common.WS
%ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

_TOKEN_WORDS = {
    "ACTION": "an action (approve, review or decline)", "_IF": "'if'", "_OR": "'or'", "_AND": "'and'",
    "_NOT": "'not'", "_IN": "'in'", "_IS": "'is'", "_MISSING": "'missing'", "_CONTAINS": "'contains'",
    "TRUE": "true", "FALSE": "false", "COMPARE": "a comparison (== != < <= > >=)", "ADD": "'+' or '-'",
    "SUB": "'-'", "MUL": "'*' or '/'", "_LPAR": "'('", "_RPAR": "')'", "_COMMA": "','", "LIST": "a list (@name)",
    "NAME": "an attribute", "NUMBER": "a number", "STRING": "a string", "$END": "the end of the rule",
}


def parse(text: str) -> Tree:
    """The parse tree of a rule; a RuleError at the first place it stops making sense."""
    try:
        return _PARSER.parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None


def _syntax_error(text: str, error: UnexpectedInput) -> RuleError:
    if isinstance(error, UnexpectedCharacters):
        pos = error.pos_in_stream or 0
        hint = ": actions, keywords and attribute names are lower case" if text[pos].isupper() else ""
        return RuleError.at(text, pos, f"unexpected character {text[pos]!r}{hint}")
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        expected = getattr(error, "expected", None) or getattr(error, "accepts", None) or ()
        return RuleError.at(text, len(text.rstrip()), f"the rule ends too early: expected {_expected(expected)}")
    if isinstance(error, UnexpectedToken):
        token = error.token
        reason = f"unexpected {token.value!r}"
        if token.start_pos == 0 and token.type != "ACTION":
            reason += ": a rule starts with approve, review or decline, e.g. 'review if amount > 50000'"
        else:
            reason += f": expected {_expected(error.accepts or error.expected)}"
        return RuleError.at(text, token.start_pos or 0, reason)
    return RuleError.at(text, getattr(error, "pos_in_stream", 0) or 0, str(error).splitlines()[0])


def _expected(names: object) -> str:
    words = sorted({_TOKEN_WORDS.get(str(name), str(name)) for name in names})  # type: ignore[attr-defined]
    if len(words) > 6:
        return ", ".join(words[:6]) + ", ..."
    return " or ".join(words) if words else "more"

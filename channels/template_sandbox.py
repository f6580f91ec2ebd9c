"""The sandboxed template engine of response templates (the canned replies, SMS and letter texts that
authors write and agents insert).

An author's text is Django template syntax, but rendered by an engine of its own: no template
loaders, no ``{% load %}``, ``{% include %}``, ``{% extends %}``, ``{% debug %}`` or any tag beyond a
few (``if``, ``firstof``, ``now``, ``comment``), a short list of text filters, and only the variables
of ``ALLOWED_VARIABLES`` (plain values: the context holds no model instance, so nothing reaches a
method or a related object). ``template_validate`` says what is wrong in the author's words when a
template is saved; rendering goes through ``sandbox_render`` and so never sees more.
"""

from __future__ import annotations

from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import FilterExpression, Lexer, Parser, TokenType, Variable
from django.utils.translation import gettext as _

# What a template may print: the keys of ``channels.services.templates.template_context``.
ALLOWED_VARIABLES = (
    "customer.display_name", "customer.title", "customer.given_name", "customer.family_name",
    "customer.company_name", "customer.account_number",
    "agent.name", "agent.first_name", "agent.email",
    "case.number", "case.subject",
)  # fmt: skip
ALLOWED_TAGS = ("if", "firstof", "now", "comment")
ALLOWED_FILTERS = ("default", "upper", "lower", "title", "capfirst", "truncatewords", "truncatechars", "cut",
                   "yesno", "date", "time", "length", "slice", "default_if_none")  # fmt: skip
# Words of an {% if %} that are operators, not variables.
IF_OPERATORS = {"and", "or", "not", "in", "is", "==", "!=", "<", ">", "<=", ">=", "None", "True", "False"}
BLOCK_WORDS = {"elif", "else", "endif", "endcomment"}


def _library() -> Library:
    library = Library()
    for name in ALLOWED_TAGS:
        library.tags[name] = defaulttags.register.tags[name]
    for name in ALLOWED_FILTERS:
        library.filters[name] = defaultfilters.register.filters[name]
    return library


ENGINE = Engine(loaders=[], libraries={}, builtins=[], autoescape=False, debug=False)
ENGINE.template_builtins = [_library()]  # instead of Django's default tags, filters and loader tags


def _variables(expression: str, parser: Parser) -> list[str]:
    filters = FilterExpression(expression, parser)
    found = [filters.var] + [arg for _func, args in filters.filters for is_var, arg in args if is_var]
    return [".".join(v.lookups) for v in found if isinstance(v, Variable) and v.lookups is not None]


def template_problems(text: str) -> list[str]:
    """What an author must change for ``text`` to be saved (empty: it is fine)."""
    problems: list[str] = []
    parser = Parser([], libraries={}, builtins=ENGINE.template_builtins)
    in_comment = False
    for token in Lexer(text or "").tokenize():
        if token.token_type == TokenType.BLOCK:
            bits = token.split_contents()
            name = bits[0] if bits else ""
            if in_comment:
                in_comment = name != "endcomment"
                continue
            if name == "comment":
                in_comment = True
                continue
            if name in BLOCK_WORDS:
                expressions = bits[1:] if name == "elif" else []
            elif name in ALLOWED_TAGS:
                expressions = bits[1:] if name in ("if", "firstof") else []
            else:
                problems.append(
                    _("“{%% %(tag)s %%}” cannot be used in a response template (allowed: %(allowed)s).")
                    % {"tag": name, "allowed": ", ".join(ALLOWED_TAGS)}
                )
                continue
            for bit in expressions:
                if bit not in IF_OPERATORS and not bit.startswith(("'", '"')) and not bit.lstrip("-").isdigit():
                    problems += _check_expression(bit, parser)
        elif token.token_type == TokenType.VAR and not in_comment:
            problems += _check_expression(token.contents, parser)
    if not problems:
        try:
            ENGINE.from_string(text or "")
        except TemplateSyntaxError as error:
            problems.append(_("The template cannot be read: %(error)s") % {"error": error})
    return list(dict.fromkeys(problems))


def _check_expression(expression: str, parser: Parser) -> list[str]:
    try:
        names = _variables(expression, parser)
    except TemplateSyntaxError as error:
        return [_("The template cannot be read: %(error)s") % {"error": error}]
    return [
        _("“%(name)s” is not a template variable; use one of: %(allowed)s.")
        % {"name": name, "allowed": ", ".join(ALLOWED_VARIABLES)}
        for name in names
        if name not in ALLOWED_VARIABLES
    ]


def sandbox_render(text: str, context: dict) -> str:
    """``text`` rendered by the sandboxed engine (plain text: no HTML escaping)."""
    return ENGINE.from_string(text).render(Context(context, autoescape=False))

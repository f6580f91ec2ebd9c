"""Response templates (email, SMS, letter): what a template may use, and rendering it as plain text."""

from __future__ import annotations

from django.template import TemplateSyntaxError
from django.utils.translation import gettext as _

from channels.template_sandbox import sandbox_render, template_problems
from crm.errors import ApplicationError


def template_context(*, customer, agent=None, case=None) -> dict:
    """What a response template may use: plain values, never model instances (no method calls)."""
    return {
        "customer": {
            "display_name": customer.display_name,
            "title": str(customer.get_title_display()) if customer.title else "",
            "given_name": customer.given_name,
            "family_name": customer.family_name,
            "company_name": customer.company_name,
            "account_number": customer.account_number,
        },
        "agent": {
            "name": (agent.get_full_name() or agent.get_username()) if agent is not None else "",
            "first_name": getattr(agent, "first_name", "") if agent is not None else "",
            "email": getattr(agent, "email", "") if agent is not None else "",
        },
        "case": {"number": case.number, "subject": case.subject} if case is not None else {},
    }


def template_text_render(text: str, *, context: dict, field: str = "body") -> str:
    """Render a template's text with the sandboxed engine (``channels.template_sandbox``: a few tags and
    filters, the variables of ``template_context`` only; no HTML escaping: the result is plain text).
    A text saved before the sandbox that it refuses is not rendered (``template_error``)."""
    problems = template_problems(text)
    if problems:
        raise ApplicationError(
            "template_error", _("The template cannot be rendered: %(error)s") % {"error": problems[0]}, field=field
        )
    try:
        return sandbox_render(text, context).strip()
    except TemplateSyntaxError as error:
        raise ApplicationError(
            "template_error", _("The template cannot be rendered: %(error)s") % {"error": error}, field=field
        ) from None

"""Sections of the 360 page that other apps fill (timeline, cases, campaigns, leads...).

``customers`` imports none of the apps above it (DESIGN.md section 3), so they register a panel here
from their ``AppConfig.ready()``: a template and a function returning its context for one customer.
Until an app registers its own, the default panels render an empty state saying what will appear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Panel:
    """One 360-page section. ``context(customer=..., user=...)`` returns the template's context.

    ``column`` is "centre" (the timeline) or "side" (context on the right); ``permission``, when set,
    hides the panel from users without it.
    """

    key: str
    title: str | Promise
    template: str = "customers/panels/empty.html"
    context: Callable[..., dict] | None = None
    empty_text: str | Promise = ""
    icon: str = "rectangle-stack"
    column: str = "side"
    order: int = 100
    permission: str | None = None

    def render_context(self, *, customer, user) -> dict:
        extra = self.context(customer=customer, user=user) if self.context else {}
        return {"panel": self, "customer": customer, **extra}


_panels: dict[str, Panel] = {}


def panel_register(panel: Panel) -> None:
    """Add or replace a panel (an app replaces the default empty one by registering the same key)."""
    _panels[panel.key] = panel


def panels_for(*, customer, user, column: str) -> list[dict]:
    """The panels of ``column`` the user may see, in order, each with its rendered context."""
    return [
        panel.render_context(customer=customer, user=user)
        for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key))
        if panel.column == column and (panel.permission is None or user.has_perm(panel.permission))
    ]


def _register_defaults() -> None:
    defaults = [
        Panel("timeline", _("Timeline"), icon="clock", column="centre", order=10,
              empty_text=_("No interaction recorded yet. Calls, emails, visits, letters and chats with this "
                           "customer will appear here, newest first, whatever the channel.")),
        Panel("cases", _("Cases"), icon="lifebuoy", order=10,
              empty_text=_("No case yet. Requests and complaints opened for this customer will appear here "
                           "with their status and due date.")),
        Panel("campaigns", _("Campaigns"), icon="megaphone", order=30,
              empty_text=_("Not in any campaign yet. Campaigns this customer is part of, and the messages "
                           "they received, will appear here.")),
        Panel("leads", _("Leads and opportunities"), icon="sparkles", order=40,
              empty_text=_("No lead yet. Sales leads and opportunities for this customer will appear here.")),
    ]  # fmt: skip
    for panel in defaults:
        _panels.setdefault(panel.key, panel)


_register_defaults()

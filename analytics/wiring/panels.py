"""The 360 page's "Value and scores" panel (side column, above the other apps' panels)."""

from django.utils.translation import gettext_lazy as _

from analytics.panels import scores_panel_context
from customers.panels import Panel, panel_register

panel_register(
    Panel(
        "scores",
        _("Value and scores"),
        template="analytics/panel_scores.html",
        context=scores_panel_context,
        icon="chart-bar",
        column="side",
        order=5,
        permission="customers.view_customer",
    )
)

"""The call card shown on the console and pushed as a screen pop: its forms, its context, its SSE push."""

from __future__ import annotations

import functools

from django import forms
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from channels import realtime
from channels.choices import CaseCategory, CasePriority
from channels.models import CallSession, Interaction
from channels.services.calls import call_candidate_cards, call_customer_card
from customers.normalise import phone_display

SCREEN_POP_EVENT = "screen_pop"
TOAST_EVENT = "toast"

OUTCOMES = [
    ("resolved", _lazy("Resolved during the call")),
    ("informed", _lazy("Information given")),
    ("follow-up", _lazy("Follow-up needed")),
    ("call back", _lazy("Call back promised")),
    ("transferred", _lazy("Transferred")),
    ("voicemail", _lazy("Left a voicemail")),
    ("no answer", _lazy("No answer")),
    ("wrong number", _lazy("Wrong number")),
]


TEXT = {"class": "form-control form-control-sm"}
SELECT = {"class": "form-select form-select-sm"}


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_lazy("Outcome"), choices=[("", "—"), *OUTCOMES], widget=forms.Select(SELECT))
    summary = forms.CharField(
        label=_lazy("Reason / summary"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, **TEXT}),
    )
    open_case = forms.BooleanField(
        label=_lazy("Open a case"), required=False, widget=forms.CheckboxInput({"class": "form-check-input"})
    )
    case_subject = forms.CharField(
        label=_lazy("Case subject"), required=False, max_length=255, widget=forms.TextInput(TEXT)
    )
    case_category = forms.ChoiceField(
        label=_lazy("Category"),
        choices=CaseCategory.choices,
        initial=CaseCategory.REQUEST,
        required=False,
        widget=forms.Select(SELECT),
    )
    case_priority = forms.ChoiceField(
        label=_lazy("Priority"),
        choices=CasePriority.choices,
        initial=CasePriority.NORMAL,
        required=False,
        widget=forms.Select(SELECT),
    )

    def clean(self):
        data = super().clean()
        data["case_category"] = data.get("case_category") or CaseCategory.REQUEST
        data["case_priority"] = data.get("case_priority") or CasePriority.NORMAL
        return data


class ProspectForm(forms.Form):
    given_name = forms.CharField(
        label=_lazy("Given name"), required=False, max_length=100, widget=forms.TextInput(TEXT)
    )
    family_name = forms.CharField(
        label=_lazy("Family name"), required=False, max_length=100, widget=forms.TextInput(TEXT)
    )
    company_name = forms.CharField(label=_lazy("Company"), required=False, max_length=200, widget=forms.TextInput(TEXT))

    def clean(self):
        data = super().clean()
        if not any((data.get(name) or "").strip() for name in ("given_name", "family_name", "company_name")):
            raise forms.ValidationError(_("Give at least a name or a company name."))
        return data


def call_log_url(customer_id: int | None) -> str | None:
    """The timeline's "Log a call" form for this customer, when that page exists."""
    if customer_id is None:
        return None
    try:
        return reverse("channels:call_log", kwargs={"pk": customer_id})
    except NoReverseMatch:
        return None


@functools.lru_cache(maxsize=32)
def _blank_fields(form_class: type[forms.Form], language: str | None) -> dict[str, str]:
    """``channels/calls/field.html`` of every field of an unbound, empty form, rendered once per language:
    the screen pop of every ringing call shows the same empty forms, and rendering their widgets was the
    largest part of rendering the card."""
    form = form_class()
    return {name: render_to_string("channels/calls/field.html", {"field": form[name]}) for name in form.fields}


def card_context(*, session: CallSession, user, outcome_form=None, prospect_form=None, card=None,
                 candidates=None) -> dict:  # fmt: skip
    """Everything ``channels/calls/card.html`` shows for one call, for ``user`` (their permissions).

    ``card`` and ``candidates`` may be passed when already computed (the screen pop of a ringing call).
    """
    if card is None and session.customer_id:
        card = call_customer_card(customer=session.customer)
    if not card and candidates is None and session.candidates:
        candidates = call_candidate_cards(session.candidates)
    interaction = None
    if session.interaction_id:
        interaction = Interaction.objects.filter(pk=session.interaction_id).select_related("case").first()
    initial = {}
    if interaction is not None and interaction.outcome != "missed":
        initial = {"outcome": interaction.outcome, "summary": interaction.summary}
    can = user.has_perm if user is not None else (lambda perm: False)
    language = get_language()
    return {
        "session": session,
        "card": card,
        "candidates": candidates or [],
        "interaction": interaction,
        "number_display": phone_display(session.caller_e164) if session.caller_e164 else session.caller_number,
        "outcome_form": outcome_form or CallOutcomeForm(initial=initial),
        "prospect_form": prospect_form or ProspectForm(),
        # The same markup as the forms above when they are blank (no form given, nothing logged yet).
        "outcome_fields": _blank_fields(CallOutcomeForm, language) if outcome_form is None and not initial else None,
        "prospect_fields": _blank_fields(ProspectForm, language) if prospect_form is None else None,
        "call_log_url": call_log_url(session.customer_id),
        "can_create_customer": can("customers.add_customer"),
        "can_link_customer": can("customers.add_contactpoint"),
        "can_open_case": can("channels.add_case"),
    }


def screen_pop_publish(*, session: CallSession, card: dict | None = None, candidates: list[dict] | None = None) -> int:
    """Push the call's card to its agent's console and a toast to their other pages; returns the streams reached."""
    if session.agent_id is None:
        return 0
    context = card_context(session=session, user=session.agent, card=card, candidates=candidates)
    topic = f"agent:{session.agent_id}"
    # Rendered outside a request: the CSRF token comes from the agent's page (htmx sends the
    # X-CSRFToken header set on <body>), so the forms carry none of their own.
    reached = realtime.publish(topic, SCREEN_POP_EVENT, render_to_string("channels/calls/card.html", context))
    reached += realtime.publish(topic, TOAST_EVENT, render_to_string("channels/calls/toast.html", context))
    return reached

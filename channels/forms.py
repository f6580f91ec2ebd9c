"""Forms of the timeline area: log a call, a visit, a note; filter the timeline. Shapes and types only.

The services in ``channels.services.visits`` decide the rest; their ``ApplicationError`` goes back on
the field it names with ``customers.forms.form_add_application_error``.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.choices import OPEN_CASE_STATUSES, Direction, InteractionChannel, InteractionKind
from channels.models import Case
from crm.pickers import SearchPickerWidget
from customers.models import Customer, Product

MAX_PRODUCTS = 20


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _now_local():
    return timezone.localtime().replace(second=0, microsecond=0)


def _staff_choices():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class CaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.number} · {obj.subject}"


class CustomerContactForm(forms.Form):
    """Common to the forms logging a contact with one customer: the optional case is one of theirs."""

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        if "case" in self.fields:
            self.fields["case"].queryset = Case.objects.filter(
                customer=customer, status__in=OPEN_CASE_STATUSES
            ).order_by("-created_at")


class CallLogForm(CustomerContactForm):
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND,
                                  widget=forms.RadioSelect)  # fmt: skip
    reason = forms.CharField(label=_("Reason for the call"), max_length=255)
    outcome = forms.CharField(label=_("Outcome"), max_length=100,
                              help_text=_("For example: answered, voicemail, no answer, resolved."))  # fmt: skip
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=0, max_value=600, required=False)
    occurred_at = forms.DateTimeField(label=_("When"), initial=_now_local, widget=DateTimeLocalInput())
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    case = CaseChoiceField(label=_("Case"), queryset=Case.objects.none(), required=False,
                           empty_label=_("No case"))  # fmt: skip


def product_labels(skus) -> dict[str, str]:
    """``{sku: "name (SKU)"}`` for the codes given (what the product picker shows as chosen)."""
    condition = Q()
    for sku in skus:
        condition |= Q(sku__iexact=sku)
    found = {p.sku.lower(): p for p in Product.objects.filter(condition)} if skus else {}
    return {sku: f"{found[sku.lower()].name} ({found[sku.lower()].sku})" for sku in skus if sku.lower() in found}


class VisitForm(CustomerContactForm):
    store = forms.CharField(label=_("Store or agency"), max_length=100)
    reason = forms.CharField(label=_("Reason for the visit"), max_length=255)
    products = forms.CharField(
        label=_("Products discussed"),
        required=False,
        help_text=_("Search by product name or code and choose each product discussed."),
        widget=SearchPickerWidget(
            search_url_name="channels:product_picker_hx",
            labels=product_labels,
            multiple=True,
            placeholder=_("Product name or code"),
        ),  # fmt: skip
    )
    outcome = forms.CharField(label=_("Outcome"), max_length=100, required=False)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=0, max_value=600, required=False)
    occurred_at = forms.DateTimeField(label=_("When"), initial=_now_local, widget=DateTimeLocalInput())
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    case = CaseChoiceField(label=_("Case"), queryset=Case.objects.none(), required=False, empty_label=_("No case"))
    follow_up_title = forms.CharField(
        label=_("Follow-up task"),
        max_length=255,
        required=False,
        help_text=_("Leave empty when nothing is to be done after the visit."),
    )
    follow_up_due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DateTimeLocalInput())
    follow_up_assignee = StaffChoiceField(label=_("Assigned to"), queryset=get_user_model().objects.none(),
                                          required=False, empty_label=_("Me"))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up_assignee"].queryset = _staff_choices()

    def clean_products(self) -> list[Product]:
        skus = list(dict.fromkeys(sku.strip() for sku in self.cleaned_data["products"].split(",") if sku.strip()))
        if len(skus) > MAX_PRODUCTS:
            raise forms.ValidationError(_("At most %(n)d products per visit.") % {"n": MAX_PRODUCTS})
        condition = Q()
        for sku in skus:
            condition |= Q(sku__iexact=sku)
        found = {p.sku.lower(): p for p in Product.objects.filter(condition)} if skus else {}
        unknown = [sku for sku in skus if sku.lower() not in found]
        if unknown:
            raise forms.ValidationError(_("Unknown product code: %(codes)s") % {"codes": ", ".join(unknown)})
        return [found[sku.lower()] for sku in skus]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("follow_up_title") and not cleaned.get("follow_up_due_at"):
            self.add_error("follow_up_due_at", _("Say when the follow-up task is due."))
        if not cleaned.get("follow_up_title") and (
            cleaned.get("follow_up_due_at") or cleaned.get("follow_up_assignee")
        ):
            self.add_error("follow_up_title", _("Say what is to be done, or clear the due date and assignee."))
        return cleaned


class NoteForm(CustomerContactForm):
    subject = forms.CharField(label=_("Title"), max_length=255, required=False)
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 5}))
    channel = forms.ChoiceField(label=_("About a contact by"), choices=InteractionChannel.choices,
                                initial=InteractionChannel.PHONE)  # fmt: skip
    case = CaseChoiceField(label=_("Case"), queryset=Case.objects.none(), required=False, empty_label=_("No case"))


class TimelineFilterForm(forms.Form):
    """The filter chips and the cursor of the timeline (invalid values are ignored, not errors)."""

    channel = forms.MultipleChoiceField(choices=InteractionChannel.choices, required=False)
    kind = forms.MultipleChoiceField(choices=InteractionKind.choices, required=False)
    before = forms.CharField(required=False, max_length=40)

    def values(self) -> dict:
        if not self.is_valid():
            return {"channels": [], "kinds": [], "before": ""}
        return {
            "channels": self.cleaned_data["channel"],
            "kinds": self.cleaned_data["kind"],
            "before": self.cleaned_data["before"],
        }

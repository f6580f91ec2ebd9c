"""Forms of the campaigns screens: shape and types only; the services decide the domain rules."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from campaigns.models import CampaignChannel, Segment, SenderIdentity, Template
from customers.models import SavedFilter
from customers.selectors_list import saved_filters_for_user

MAX_LIST_BYTES = 8 * 1024 * 1024


class RulesField(forms.CharField):
    """The builder's hidden JSON: parsed here; what it may contain is the compiler's business."""

    widget = forms.HiddenInput

    def to_python(self, value):
        text = super().to_python(value) or '{"all": []}'
        try:
            rules = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("The rules are not valid JSON.")) from None
        if not isinstance(rules, dict):
            raise forms.ValidationError(_("The rules must be a group (an object)."))
        return rules


class SegmentForm(forms.Form):
    name = forms.CharField(label=_lazy("Name"), max_length=200)
    description = forms.CharField(label=_lazy("Description"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    rules = RulesField(required=False)


class StaticSegmentForm(forms.Form):
    SOURCES = [("upload", _lazy("An uploaded list of account numbers or emails")),
               ("saved_filter", _lazy("The customers a saved filter finds now"))]  # fmt: skip

    name = forms.CharField(label=_lazy("Name"), max_length=200)
    description = forms.CharField(label=_lazy("Description"), required=False, max_length=2000)
    source = forms.ChoiceField(label=_lazy("Built from"), choices=SOURCES, widget=forms.RadioSelect, initial="upload")
    file = forms.FileField(label=_lazy("List (CSV or text)"), required=False,
                           help_text=_lazy("One account number or email per line (a CSV's first column)."))  # fmt: skip
    saved_filter = forms.ModelChoiceField(label=_lazy("Saved filter"), queryset=SavedFilter.objects.none(),
                                          required=False, empty_label=_lazy("Choose a saved filter"))  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["saved_filter"].queryset = saved_filters_for_user(user=user)

    def clean(self):
        data = super().clean()
        if data.get("source") == "upload":
            upload = data.get("file")
            if not upload:
                self.add_error("file", _("Choose the file to upload."))
            elif upload.size > MAX_LIST_BYTES:
                self.add_error("file", _("The file is larger than 8 MB."))
            else:
                raw = upload.read()
                try:
                    data["text"] = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    data["text"] = raw.decode("cp1252", errors="replace")  # a list saved by Excel in French
        elif data.get("source") == "saved_filter" and not data.get("saved_filter"):
            self.add_error("saved_filter", _("Choose a saved filter."))
        return data


class TemplateForm(forms.Form):
    name = forms.CharField(label=_lazy("Name"), max_length=120)
    channel = forms.ChoiceField(label=_lazy("Channel"), choices=CampaignChannel.choices)
    language = forms.ChoiceField(label=_lazy("Language"), choices=settings.LANGUAGES)
    subject = forms.CharField(label=_lazy("Subject"), max_length=255, required=False)
    preheader = forms.CharField(label=_lazy("Preheader"), max_length=255, required=False,
                                help_text=_lazy("The line mail clients show after the subject."))  # fmt: skip
    html = forms.CharField(label=_lazy("HTML"), required=False, widget=forms.Textarea(attrs={"rows": 12}))
    text = forms.CharField(label=_lazy("Plain-text part"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
                           help_text=_lazy("Left empty, it is made from the HTML."))  # fmt: skip
    body = forms.CharField(label=_lazy("Text"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=_lazy("SMS text, letter body or call script."))  # fmt: skip
    is_active = forms.BooleanField(label=_lazy("Active"), required=False, initial=True)

    EMAIL_ONLY = ("subject", "preheader", "html", "text")


class CampaignForm(forms.Form):
    name = forms.CharField(label=_lazy("Name"), max_length=200)
    objective = forms.CharField(label=_lazy("Objective"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    segments = forms.ModelMultipleChoiceField(label=_lazy("Audience"), queryset=Segment.objects.none(),
                                              help_text=_lazy("Customers of any of these segments."))  # fmt: skip
    exclusion_segments = forms.ModelMultipleChoiceField(label=_lazy("Excluding"), queryset=Segment.objects.none(),
                                                        required=False)  # fmt: skip
    channel = forms.ChoiceField(label=_lazy("Channel"), choices=CampaignChannel.choices)
    template = forms.ModelChoiceField(label=_lazy("Template"), queryset=Template.objects.none())
    purpose = forms.ChoiceField(label=_lazy("Purpose"), choices=[("marketing", _lazy("Marketing")),
                                                                 ("service", _lazy("Service"))])  # fmt: skip
    priority = forms.IntegerField(
        label=_lazy("Priority"),
        min_value=1,
        max_value=5,
        initial=3,
        help_text=_lazy("1 (lowest) to 5 (highest): the higher wins a shared budget slot."),
    )
    scheduled_at = forms.DateTimeField(
        label=_lazy("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_lazy("Europe/Paris time; empty: as soon as it is launched."),
    )
    sender = forms.ModelChoiceField(label=_lazy("Sender"), queryset=SenderIdentity.objects.all(), required=False,
                                    empty_label=_lazy("The default sender"))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live = Segment.objects.filter(is_archived=False).order_by("name")
        self.fields["segments"].queryset = live
        self.fields["exclusion_segments"].queryset = live
        self.fields["template"].queryset = Template.objects.filter(is_active=True).order_by("name", "language")
        self.fields["template"].label_from_instance = lambda t: f"{t.name} · {t.get_channel_display()} · {t.language}"

    def clean_scheduled_at(self):
        value = self.cleaned_data.get("scheduled_at")
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

"""Forms of the service desk (shape only: the rules live in channels.services.cases)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from channels.choices import CaseCategory, CasePriority, CaseStatus, InteractionChannel
from channels.models import Queue
from channels.selectors_desk import desk_assignees, staff_labels
from crm.pickers import SearchPickerWidget


def staff_picker(**attrs) -> SearchPickerWidget:
    """The staff search picker (``channels:staff_picker_hx``) instead of a select of every staff member."""
    return SearchPickerWidget(search_url_name="channels:staff_picker_hx", labels=staff_labels,
                              placeholder=_("Type a name (empty: nobody)"), attrs=attrs)  # fmt: skip


class AssigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class CaseCreateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=255)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                  help_text=_("What the customer asked, in their words if you can."))  # fmt: skip
    category = forms.ChoiceField(label=_("Category"), choices=CaseCategory.choices, initial=CaseCategory.REQUEST)
    priority = forms.ChoiceField(label=_("Priority"), choices=CasePriority.choices, initial=CasePriority.NORMAL)
    channel = forms.ChoiceField(label=_("Opened through"), choices=InteractionChannel.choices,
                                initial=InteractionChannel.PHONE)  # fmt: skip
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), required=False,
                                   empty_label=_("Default queue"))  # fmt: skip
    assignee = AssigneeChoiceField(label=_("Assignee"), queryset=None, required=False,
                                   empty_label=_("By the queue's rule"))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.filter(is_active=True)
        self.fields["assignee"].queryset = desk_assignees()


class CaseStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)


class CaseAssignForm(forms.Form):
    assignee = AssigneeChoiceField(label=_("Assignee"), queryset=None, required=False, empty_label=_("Nobody"),
                                   widget=staff_picker())  # fmt: skip
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), required=False,
                                   empty_label=_("No queue"))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = desk_assignees()
        self.fields["queue"].queryset = Queue.objects.filter(is_active=True)
        self.fields["assignee"].widget.attrs["class"] = "form-control form-control-sm"
        self.fields["queue"].widget.attrs["class"] = "form-select form-select-sm"


class CaseClassifyForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=CaseCategory.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=CasePriority.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"


class CaseNoteForm(forms.Form):
    text = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)


class SurveyAnswerForm(forms.Form):
    score = forms.TypedChoiceField(label=_("How satisfied are you?"), coerce=int,
                                   choices=[(n, str(n)) for n in range(1, 6)], widget=forms.RadioSelect)  # fmt: skip
    comment = forms.CharField(label=_("Anything to add? (optional)"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip

"""Search pickers: a text box that searches as you type (htmx) and a list to choose from, instead of a
``<select>`` holding every staff member or product.

``SearchPickerWidget`` renders the picker for a form field: one hidden input carrying the chosen
value (or, with ``multiple``, one per chosen item, shown as removable chips) and a combobox whose
``q`` is sent to ``search_url``; that view answers with ``pickers/options.html`` (a
``listbox`` of ``option``s). ``static/relais/picker.js`` does the keyboard (arrows,
Enter, Escape), the choosing, and refuses to submit a name typed but not chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

PICKER_RESULTS = 20


class SearchPickerWidget(forms.Widget):
    template_name = "pickers/picker.html"

    def __init__(
        self,
        *,
        search_url_name: str,
        labels: Callable[[list[str]], dict[str, str]],
        multiple: bool = False,
        placeholder: str = "",
        attrs: dict | None = None,
    ):
        super().__init__(attrs)
        self.search_url_name = search_url_name
        self.labels = labels
        self.multiple = multiple
        self.placeholder = placeholder

    def format_value(self, value) -> list[str]:
        if value in (None, ""):
            return []
        if isinstance(value, str):
            values = value.split(",") if self.multiple else [value]
        elif isinstance(value, Iterable):
            values = [str(getattr(item, "pk", item)) for item in value]
        else:
            values = [str(getattr(value, "pk", value))]
        return [item.strip() for item in values if str(item).strip()]

    def value_from_datadict(self, data, files, name):
        if self.multiple:
            # Chosen items arrive as repeated values; a form posted without the picker's script (or
            # a test) may send them comma-separated in one value, as the field always accepted.
            values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name) or ""]
            return ",".join(value for value in values if value)
        return data.get(name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        values = context["widget"]["value"]
        labels = self.labels(values) if values else {}
        context["widget"].update(
            search_url=reverse(self.search_url_name),
            multiple=self.multiple,
            placeholder=self.placeholder,
            selected=[{"value": value, "label": labels.get(value, value)} for value in values],
            options_id=f"{context['widget']['attrs'].get('id') or name}-options",
            invalid_message=_("Choose a name from the list, or clear the box."),
        )
        return context

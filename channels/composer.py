"""Actions offered above the 360 timeline ("log a call", "send an email", "write a letter"...).

Each adapter registers its action from its wiring module; the timeline panel shows the actions the
user may use, each a link to the adapter's own form for this customer (``url_name`` takes ``pk``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class ComposerAction:
    key: str
    label: str | Promise
    url_name: str
    icon: str
    permission: str | None = None
    order: int = 100

    def url_for(self, customer) -> str:
        return reverse(self.url_name, kwargs={"pk": customer.pk})


_actions: dict[str, ComposerAction] = {}


def composer_action_register(action: ComposerAction) -> None:
    _actions[action.key] = action


def composer_actions_for(*, customer, user) -> list[dict]:
    """``[{"action": ..., "url": ...}]`` the user may use, in order."""
    return [
        {"action": action, "url": action.url_for(customer)}
        for action in sorted(_actions.values(), key=lambda a: (a.order, a.key))
        if action.permission is None or user.has_perm(action.permission)
    ]

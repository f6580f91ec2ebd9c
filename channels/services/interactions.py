"""The timeline's one writer: every adapter records its contacts through ``interaction_record``.

It applies the channel's cost, sanitises the HTML body with nh3, keeps a plain-text summary, and runs
the registered reactions after commit (DESIGN.md section 5: case update, lead score, journey branch).
Higher apps react through ``interaction_hook_register`` instead of model signals.
"""

from __future__ import annotations

import datetime
import functools
import html
import re
from collections.abc import Callable
from decimal import Decimal

import nh3
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from channels.models import ChannelCost, Interaction
from channels.models.config import DEFAULT_COSTS
from channels.services.html_images import BLOCKED_SRC, images_block
from crm.errors import ApplicationError

# Tags an agent may see in an inbound email or a note; scripts, styles, forms and event handlers go.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "img", "li",
    "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"alt", "src", BLOCKED_SRC, "width", "height"},
                      "td": {"colspan", "rowspan"},
                      "th": {"colspan", "rowspan"}}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
SUMMARY_LENGTH = 500

_hooks: list[Callable[[Interaction], None]] = []


def interaction_hook_register(hook: Callable[[Interaction], None]) -> None:
    """``hook(interaction)`` runs after the transaction that recorded an interaction commits."""
    if hook not in _hooks:
        _hooks.append(hook)


def html_sanitise(html: str) -> str:
    """Safe HTML for an agent's browser: nh3 keeps formatting, drops scripts, handlers and bad URLs;
    images do not load (``src`` moved to ``data-relais-src``) until an agent shows them for one
    message (``channels.services.html_images``)."""
    return images_block(nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                                  url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow"))  # fmt: skip


# Where one block of text ends and the next begins: kept as a space when the tags are stripped.
BLOCK_BOUNDARY = re.compile(r"<(?:br|hr|/p|/div|/li|/h[1-6]|/tr|/td|/th|/blockquote|/pre)\b[^>]*>", re.IGNORECASE)


def text_summary(text: str, *, length: int = SUMMARY_LENGTH) -> str:
    """Plain text on one paragraph (entities decoded, blocks separated by a space), cut at ``length``
    characters on a word boundary."""
    flat = " ".join(html.unescape(strip_tags(BLOCK_BOUNDARY.sub(" ", text or ""))).split())
    if len(flat) <= length:
        return flat
    return flat[: length - 1].rsplit(" ", 1)[0] + "…"


def channel_cost(channel: str) -> tuple[Decimal, str]:
    """The current cost of one contact on ``channel`` (the admin's table, else the default)."""
    row = ChannelCost.objects.filter(channel=channel).values_list("amount", "currency").first()
    if row is not None:
        return row
    return DEFAULT_COSTS.get(channel, Decimal("0")), "EUR"


def interaction_record(**fields) -> Interaction:
    """Record one contact on the timeline and schedule the reactions for after commit.

    Takes the keyword arguments of ``interaction_build`` (channel, direction, kind, customer, agent,
    occurred_at, subject, body_html, summary, outcome, duration_seconds, case, conversation,
    external_id, metadata, cost). ``body_html`` is sanitised (callers pass what they received);
    ``summary`` defaults to the body's text; ``cost`` defaults to the channel's cost (pass 0 for a
    contact that cost nothing, such as an internal note). The customer may be None until the person
    is identified.
    """
    interaction = interaction_build(**fields)
    interaction.save()
    if _hooks:
        transaction.on_commit(lambda: _run_hooks(interaction))
    return interaction


def interaction_build(
    *,
    channel: str,
    direction: str,
    kind: str,
    customer=None,
    agent=None,
    occurred_at: datetime.datetime | None = None,
    subject: str = "",
    body_html: str = "",
    summary: str = "",
    outcome: str = "",
    duration_seconds: int | None = None,
    case=None,
    conversation=None,
    external_id: str = "",
    metadata: dict | None = None,
    cost: Decimal | None = None,
) -> Interaction:
    """What ``interaction_record`` saves, validated but not saved: for adapters that record many
    contacts at once with ``interactions_record_many``."""
    if channel not in _valid_channels():
        raise ApplicationError(
            "invalid_choice", _("Unknown channel: %(channel)s") % {"channel": channel}, field="channel"
        )
    if customer is None and case is not None and case.customer_id:
        customer = case.customer
    if customer is None and conversation is not None and conversation.customer_id:
        customer = conversation.customer
    if cost is None:
        cost, currency = channel_cost(channel)
    else:
        currency = "EUR"
    body = html_sanitise(body_html) if body_html else ""
    interaction = Interaction(
        customer=customer,
        channel=channel,
        direction=direction,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        agent=agent,
        subject=(subject or "")[:255],
        summary=summary or text_summary(body),
        body=body,
        outcome=(outcome or "")[:100],
        duration_seconds=duration_seconds,
        cost=cost,
        currency=currency,
        case=case,
        conversation=conversation,
        external_id=(external_id or "")[:255],
        metadata=metadata or {},
    )
    interaction.full_clean(exclude=["customer", "agent", "case", "conversation", "metadata", "body", "summary"])
    return interaction


def interactions_record_many(interactions: list[Interaction]) -> list[Interaction]:
    """Save interactions built by ``interaction_build`` in one INSERT; the reactions run after commit,
    one call per interaction, as ``interaction_record`` does."""
    if not interactions:
        return interactions
    Interaction.objects.bulk_create(interactions)
    if _hooks:
        for interaction in interactions:
            transaction.on_commit(functools.partial(_run_hooks, interaction))
    return interactions


def _valid_channels() -> set[str]:
    return {choice for choice, _label in Interaction._meta.get_field("channel").choices}


def _run_hooks(interaction: Interaction) -> None:
    for hook in list(_hooks):
        hook(interaction)

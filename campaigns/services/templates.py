"""Campaign templates: the sandboxed renderer (one for every channel), personalisation, and the email
as it leaves (CSS inlined, plain-text part, tracking links, RFC 8058 unsubscribe headers).

Marketers write Django template syntax, but through an engine of its own: only the tags and filters
of ``ALLOWED_TAGS`` / ``ALLOWED_FILTERS`` exist (no ``{% load %}``, ``{% include %}``, ``{% debug %}``,
``{% url %}``, no ``safe``), and the context holds plain strings and numbers only, never a model
instance, so no method of the record, the settings or another customer can be reached.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from email.utils import formataddr, make_msgid
from types import MappingProxyType

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import Context, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import Template as DjangoTemplate
from django.template.engine import Engine
from django.utils.translation import gettext as _

from campaigns.models import CampaignChannel, Template
from channels.services.interactions import text_summary
from channels.services.templates import template_context
from channels.sms.encoding import sms_segments
from crm.errors import ApplicationError
from customers.models import Customer

ALLOWED_TAGS = ("if", "for", "with", "firstof", "comment", "spaceless", "now", "cycle", "ifchanged")
ALLOWED_FILTERS = (
    "add", "capfirst", "cut", "date", "default", "default_if_none", "first", "floatformat", "join", "last", "length",
    "linebreaksbr", "lower", "pluralize", "slice", "time", "title", "truncatechars", "truncatewords", "upper",
    "urlencode", "wordcount", "yesno", "stringformat",
)  # fmt: skip
MAX_SOURCE = 200_000
LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)


class _SandboxEngine(Engine):
    default_builtins: list[str] = []


@functools.cache
def sandbox_engine() -> Engine:
    """The marketers' template engine: the allow-listed tags and filters only, no loaders, no libraries."""
    library = Library()
    for name in ALLOWED_TAGS:
        library.tags[name] = defaulttags.register.tags[name]
    for name in ALLOWED_FILTERS:
        library.filters[name] = defaultfilters.register.filters[name]
    engine = _SandboxEngine(dirs=[], app_dirs=False, libraries={}, loaders=[], debug=False)
    engine.template_builtins = [library]
    engine.template_libraries = {}
    return engine


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> DjangoTemplate:
    return DjangoTemplate(source, engine=sandbox_engine())


def sandbox_compile(source: str, *, field: str = "body") -> DjangoTemplate:
    """Parse ``source`` in the sandbox; a refused tag or filter is an ``ApplicationError`` naming it."""
    if len(source or "") > MAX_SOURCE:
        raise ApplicationError("template_too_long", _("The template is too long."), field=field)
    try:
        return _compiled(source or "")
    except TemplateSyntaxError as error:
        raise ApplicationError(
            "template_error", _("The template cannot be used: %(error)s") % {"error": error}, field=field
        ) from None


def sandbox_render(source: str, *, context: dict, autoescape: bool, field: str = "body") -> str:
    """Render ``source`` with plain values; HTML templates escape every value (``autoescape``)."""
    template = sandbox_compile(source, field=field)
    try:
        return template.render(Context(context, autoescape=autoescape))
    except Exception as error:  # noqa: BLE001 - a filter given a bad argument: the marketer's mistake, said plainly
        raise ApplicationError(
            "template_error", _("The template cannot be rendered: %(error)s") % {"error": error}, field=field
        ) from None


def template_validate(template: Template) -> None:
    """Refuse a template whose parts do not compile in the sandbox (the form and the API call this)."""
    for field in ("subject", "preheader", "html", "text", "body"):
        sandbox_compile(getattr(template, field), field=field)
    if template.channel == CampaignChannel.EMAIL and not (template.subject and (template.html or template.text)):
        raise ApplicationError("required", _("An email needs a subject and a body."), field="subject")
    if template.channel != CampaignChannel.EMAIL and not template.body.strip():
        raise ApplicationError("required", _("Write the text."), field="body")


# -- personalisation ---------------------------------------------------------------------------


def message_context(*, customer: Customer, message=None, agent=None, last_order: dict | None = None) -> dict:
    """What a campaign template may use: the record's plain values, the last order, the agent, links."""
    from campaigns.services.tracking import preferences_url, unsubscribe_url

    context = template_context(customer=customer, agent=agent)
    context["customer"]["language"] = customer.language
    context["last_order"] = last_order if last_order is not None else _last_order(customer.pk)
    context["unsubscribe_url"] = unsubscribe_url(message) if message is not None else "#"
    context["preferences_url"] = preferences_url(message) if message is not None else "#"
    return {key: _read_only(value) for key, value in context.items()}


def _read_only(value):
    """Dicts become read-only mappings: the template engine calls zero-argument attributes it finds,
    and a plain dict would offer it ``clear``, ``popitem``..."""
    if isinstance(value, dict):
        return MappingProxyType({key: _read_only(item) for key, item in value.items()})
    return value


def _last_order(customer_id: int) -> dict:
    from customers.models import Order

    order = Order.objects.filter(customer_id=customer_id).order_by("-placed_at").values(
        "number", "placed_at", "total_amount"
    ).first()  # fmt: skip
    if order is None:
        return {}
    return {"number": order["number"], "date": order["placed_at"], "total": order["total_amount"]}


def template_for_language(template: Template, language: str) -> Template:
    """The version of ``template`` in ``language`` when one exists (active), else ``template`` itself."""
    if template.language == language:
        return template
    return (
        Template.objects.filter(name=template.name, channel=template.channel, language=language, is_active=True).first()
        or template
    )


# -- rendering ---------------------------------------------------------------------------------


def render_parts(template: Template, *, context: dict) -> dict:
    """The rendered parts of one message: ``subject``, ``html``, ``text`` (email) or ``body``."""
    if template.channel == CampaignChannel.EMAIL:
        subject = " ".join(sandbox_render(template.subject, context=context, autoescape=False, field="subject").split())
        html = sandbox_render(template.html, context=context, autoescape=True, field="html") if template.html else ""
        text = sandbox_render(template.text, context=context, autoescape=False, field="text").strip()
        if not text and html:
            text = html_to_text(html)
        preheader = sandbox_render(template.preheader, context=context, autoescape=False, field="preheader").strip()
        return {"subject": subject, "html": html, "text": text, "preheader": preheader}
    body = sandbox_render(template.body, context=context, autoescape=False, field="body").strip()
    parts = {"body": body}
    if template.channel == CampaignChannel.SMS:
        parts["segments"] = sms_segments(body).segments
    return parts


def html_to_text(html: str) -> str:
    """A readable plain-text part from HTML: links kept as "text (url)", blocks on their own lines."""
    text = re.sub(r"<a\b[^>]*href=[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", r"\2 (\1)", html, flags=re.I | re.S)
    text = re.sub(r"<(style|script|head)\b.*?</\1>", "", text, flags=re.I | re.S)
    text = re.sub(r"<br\s*/?>|</(p|div|h[1-6]|li|tr)>", "\n", text, flags=re.I)
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def template_links(html: str) -> list[str]:
    """The http(s) links of a rendered HTML body, in order, each once (what click tracking may lead to)."""
    seen: dict[str, None] = {}
    for match in LINK.finditer(html or ""):
        seen.setdefault(html_lib.unescape(match.group(3)), None)
    return list(seen)


def html_finalise(html: str, *, message=None, preheader: str = "") -> str:
    """Inline the CSS (mail clients drop ``<style>``), wrap links for click tracking, add the open pixel."""
    from campaigns.services.tracking import click_url, open_pixel_url

    if preheader:
        hidden = f'<div style="display:none;max-height:0;overflow:hidden">{html_lib.escape(preheader)}</div>'
        html = (
            re.sub(r"(<body\b[^>]*>)", r"\1" + hidden, html, count=1, flags=re.I) if "<body" in html else hidden + html
        )
    if message is not None:
        html = LINK.sub(
            lambda m: (
                f"{m.group(1)}{m.group(2)}{html_lib.escape(click_url(message, html_lib.unescape(m.group(3))))}"
                f"{m.group(2)}"
            ),
            html,
        )
        pixel = f'<img src="{open_pixel_url(message)}" width="1" height="1" alt="" style="display:none">'
        html = re.sub(r"(</body>)", pixel + r"\1", html, count=1, flags=re.I) if "</body>" in html else html + pixel
    return _inliner().inline(html)


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    # No network: remote stylesheets are never fetched while sending.
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


def email_build(*, message, parts: dict, to: str, sender=None) -> EmailMultiAlternatives:
    """The email of one campaign message, for Django's mail backend: text part + inlined HTML
    alternative, its stored ``Message-ID``, ``List-Unsubscribe`` + ``List-Unsubscribe-Post`` (RFC 8058),
    From / Reply-To of the campaign's sender identity."""
    from campaigns.services.tracking import unsubscribe_mailto, unsubscribe_url

    from_email = (sender.from_email if sender and sender.from_email else None) or settings.DEFAULT_FROM_EMAIL
    if sender and sender.from_email and sender.from_name:
        from_email = formataddr((sender.from_name, sender.from_email))
    headers = {
        "Message-ID": message.message_id,
        "List-Unsubscribe": f"<{unsubscribe_url(message)}>, <{unsubscribe_mailto(message)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
        "X-Relais-Campaign": str(message.campaign_id),
    }
    email = EmailMultiAlternatives(
        subject=parts["subject"], body=parts["text"] or " ", from_email=from_email, to=[to],
        reply_to=[sender.reply_to] if sender and sender.reply_to else None, headers=headers,
    )  # fmt: skip
    if parts.get("html"):
        email.attach_alternative(
            html_finalise(parts["html"], message=message, preheader=parts.get("preheader", "")), "text/html"
        )
    return email


def _message_id_domain() -> str:
    from urllib.parse import urlsplit

    return urlsplit(settings.SITE_URL).hostname or "relais.localhost"


def message_id_new(domain: str | None = None) -> str:
    """A fresh RFC 5322 Message-ID on the site's domain (written on the message before any handover)."""
    return make_msgid(domain=domain or _message_id_domain())


# -- services ----------------------------------------------------------------------------------


TEMPLATE_FIELDS = ("name", "channel", "language", "subject", "preheader", "html", "text", "body", "is_active")


@transaction.atomic
def template_save(*, acting_user, template: Template | None = None, **fields) -> Template:
    """Create or change a campaign template after checking it compiles in the sandbox."""
    template = template or Template(created_by=acting_user)
    for name, value in fields.items():
        if name not in TEMPLATE_FIELDS:
            raise ApplicationError("invalid_field", _("Unknown field: %(name)s") % {"name": name}, field=name)
        setattr(template, name, value)
    template.name = (template.name or "").strip()
    if not template.name:
        raise ApplicationError("required", _("Give the template a name."), field="name")
    if template.channel not in CampaignChannel.values:
        raise ApplicationError("invalid_choice", _("Choose a channel."), field="channel")
    template_validate(template)
    duplicate = Template.objects.filter(name=template.name, channel=template.channel, language=template.language)
    if duplicate.exclude(pk=template.pk).exists():
        raise ApplicationError(
            "duplicate", _("This template already has a version in this language."), field="language"
        )
    template.save()
    return template


def template_preview(*, template: Template, customer: Customer) -> dict:
    """The template rendered for a real customer (the preview screen and the API): no tracking links."""
    context = message_context(customer=customer)
    parts = render_parts(template, context=context)
    if template.channel == CampaignChannel.EMAIL and parts.get("html"):
        parts["html"] = html_finalise(parts["html"], preheader=parts.get("preheader", ""))
    return parts


def template_test_send(*, template: Template, customer: Customer, acting_user, to: str = "") -> str:
    """Send the template rendered for ``customer`` to the marketer's own address (email) or phone (SMS).

    Nothing is written to the customer's record. Returns the address it went to.
    """
    import smtplib

    from channels.sms import SmsProviderError, sms_provider

    parts = template_preview(template=template, customer=customer)
    if template.channel == CampaignChannel.EMAIL:
        to = to or acting_user.email
        if not to:
            raise ApplicationError("required", _("Your account has no email address."), field="to")
        email = EmailMultiAlternatives(subject="[TEST] " + parts["subject"], body=parts["text"], to=[to],
                                       from_email=settings.DEFAULT_FROM_EMAIL)  # fmt: skip
        if parts.get("html"):
            email.attach_alternative(parts["html"], "text/html")
        try:
            email.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as error:
            raise ApplicationError("send_failed", _("The test email was refused: %(e)s") % {"e": error}) from None
        return to
    if template.channel == CampaignChannel.SMS:
        if not to:
            raise ApplicationError("required", _("Give your mobile number."), field="to")
        try:
            sms_provider().send(to_e164=to, body=parts["body"], sender=settings.SMS_SENDER)
        except SmsProviderError as error:
            raise ApplicationError("send_failed", error.message) from None
        return to
    raise ApplicationError("unsupported", _("Test sends exist for email and SMS."), field="channel")


def text_preview(parts: dict) -> str:
    return text_summary(parts.get("text") or parts.get("body") or "", length=200)

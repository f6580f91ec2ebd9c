"""Chat from the web widget: start, lines both ways, page push, take, link a customer, end.

The visitor's browser holds a random token (only its SHA-256 is stored); agents act through the console.
Every change publishes, after commit, to ``console`` (the queue page reloads its list) and to
``chat:<id>`` (the widget gets JSON lines, the agent's chat page reloads its transcript).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from channels import realtime
from channels.access import chat_may_change
from channels.choices import (
    ChatAuthor,
    ConversationKind,
    ConversationStatus,
    Direction,
    InteractionChannel,
    InteractionKind,
)
from channels.models import Case, ChatMessage, Conversation, Interaction, Site, WebEvent
from channels.services.cases import case_agent_responded, case_open, default_queue
from channels.services.interactions import interaction_record, text_summary
from crm.errors import ApplicationError

MESSAGE_MAX_LENGTH = 4000
SUMMARY_LINES = 3
TOPIC_CONSOLE = "console"


def db_release_for_stream() -> None:
    """Give the database connection back before a long SSE stream (it reads only Redis from then on).

    Without this every open chat page would hold a PostgreSQL connection for the stream's minute.
    Inside a transaction (tests, ATOMIC_REQUESTS) the connection is left alone.
    """
    from django.db import connection

    if not connection.in_atomic_block:
        connection.close()


def chat_topic(conversation_id: int) -> str:
    return f"chat:{conversation_id}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- The visitor's side -------------------------------------------------------------------------


def site_for_widget(*, key: str) -> Site:
    """The active site with this key; ``ApplicationError`` ``invalid_site`` (403) otherwise.

    The API checks the page's origin against it (``channels.origins``): the widget answers browsers on
    the site's pages (and Relais's own, the demo shop) only.
    """
    site = Site.objects.filter(key=key, is_active=True).first() if key and len(key) <= 64 else None
    if site is None:
        raise ApplicationError("invalid_site", _("Unknown or inactive site key."), status_code=403)
    return site


def _clean_text(text: str, *, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ApplicationError("required", _("Write a message."), field=field)
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            "too_long",
            _("A message has at most %(count)d characters.") % {"count": MESSAGE_MAX_LENGTH},
            field=field,
        )
    return text


def _email_check(email: str) -> str:
    """The visitor's email as typed (trimmed); ``ApplicationError`` on ``email`` when it cannot be one."""
    from customers.normalise import email_normalise

    email = (email or "").strip()
    if email:
        try:
            email_normalise(email)
        except ApplicationError as error:
            error.field = "email"
            raise
    return email


def email_claimed_customer(email: str):
    """The live customer whose email is exactly ``email`` (email evidence only, never a guess by name),
    else None, also for an email that cannot be one.

    A SUGGESTION for an agent, never an identification: anybody can type anybody's email into a
    widget or a web form, so what this returns is "claimed, not verified" until the agent, who can ask
    the visitor, links the contact to the customer (``chat_customer_link``).
    """
    from customers.services.identity import identity_resolve

    if not email:
        return None
    try:
        result = identity_resolve(email=email)
    except ApplicationError:
        return None
    if result.match is not None and "email" in result.reasons:
        return result.match
    return None


def chat_claimed_customer(*, conversation: Conversation):
    """The customer the visitor's typed email names (see ``email_claimed_customer``), while the chat is
    not linked to a customer; None otherwise. Shown to agents as "claimed, not verified"."""
    if conversation.customer_id is not None:
        return None
    return email_claimed_customer(conversation.visitor_email)


def _visitor_stitch(site: Site, visitor_id: str, customer, via: str) -> None:
    """Link this browser's earlier web events to the customer (the web area's service, when present)."""
    if not visitor_id or customer is None:
        return
    try:
        from channels.services import web
    except ImportError:
        return
    stitch = getattr(web, "visitor_stitch", None)
    if stitch is not None:
        stitch(site=site, visitor_id=visitor_id, customer=customer, via=via)


@dataclass(frozen=True)
class ChatStarted:
    conversation: Conversation
    token: str  # returned to the visitor once, never stored


def chat_start(
    *, site: Site, name: str, message: str, visitor_id: str = "", email: str = "", url: str = ""
) -> ChatStarted:
    """Open a chat (status waiting, in the default queue, no customer) with the visitor's first line.

    A given email is kept as the visitor's claim (``visitor_email``) and never identifies them: nothing
    is written to a customer's record, and the visitor's browser is not linked to anyone, until an
    agent links the chat (``chat_customer_link``); the chat page suggests the customer the email names
    as "claimed, not verified" (``chat_claimed_customer``). Returns the conversation and the token the
    widget must send with every later call. Publishes ``chat_new`` to the console after commit.
    """
    name = (name or "").strip()
    if not name:
        raise ApplicationError("required", _("Tell us your name."), field="name")
    message = _clean_text(message, field="message")
    email = _email_check(email)  # kept as the visitor's claim; only an agent links the chat to a customer
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            customer=None,
            kind=ConversationKind.CHAT,
            status=ConversationStatus.WAITING,
            subject=text_summary(message, length=120),
            queue=default_queue(),
            site=site,
            visitor_id=(visitor_id or "")[:64],
            visitor_name=name[:120],
            visitor_email=email[:254],
            token_hash=token_hash(token),
            created_at=now,
            last_message_at=now,
        )
        line = ChatMessage.objects.create(
            conversation=conversation, customer=None, author=ChatAuthor.VISITOR, body=message, created_at=now
        )
        if url:
            ChatMessage.objects.create(
                conversation=conversation,
                customer=None,
                author=ChatAuthor.SYSTEM,
                body=_("Visitor is on %(url)s") % {"url": url[:500]},
                created_at=now,
            )
        transaction.on_commit(lambda: _announce(conversation, "chat_new", line))
    return ChatStarted(conversation=conversation, token=token)


def chat_for_token(*, conversation_id: int, token: str, site: Site | None = None) -> Conversation:
    """The chat this token opens; ``ApplicationError`` 403 for a wrong, missing or another chat's token."""
    conversation = Conversation.objects.filter(pk=conversation_id, kind=ConversationKind.CHAT).first()
    if (
        conversation is None
        or not token
        or not conversation.token_hash
        or (site is not None and conversation.site_id != site.pk)
        or not hmac.compare_digest(conversation.token_hash, token_hash(token))
    ):
        raise ApplicationError("invalid_token", _("This chat does not exist or the token is wrong."), status_code=403)
    return conversation


def chat_visitor_post(*, conversation: Conversation, body: str) -> ChatMessage:
    """The visitor writes a line; refused once the chat has ended. Reopens the linked case if closed."""
    body = _clean_text(body, field="body")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == ConversationStatus.CLOSED:
            raise ApplicationError("chat_closed", _("This chat has ended."), status_code=409)
        line = ChatMessage.objects.create(
            conversation=conversation, customer=conversation.customer, author=ChatAuthor.VISITOR, body=body
        )
        conversation.last_message_at = line.created_at
        conversation.save(update_fields=["last_message_at"])
        if conversation.case_id:
            from channels.services.cases import case_customer_replied

            case = Case.objects.filter(pk=conversation.case_id).first()
            if case is not None:
                case_customer_replied(case)
        transaction.on_commit(lambda: _announce(conversation, "chat_message", line))
    return line


def chat_lines(*, conversation: Conversation, after: int = 0, limit: int = 200) -> QuerySet[ChatMessage]:
    """The chat's lines after line id ``after``, oldest first."""
    return ChatMessage.objects.filter(conversation=conversation, id__gt=after).order_by("id")[:limit]


def line_payload(line: ChatMessage) -> dict:
    """What the widget receives for one line (rendered there as text, never as HTML)."""
    return {
        "id": line.pk,
        "author": line.author,
        "body": line.body,
        "pushed_url": line.pushed_url,
        "agent": (line.agent.first_name or line.agent.get_username()) if line.agent_id else "",
        "created_at": line.created_at.isoformat(),
    }


def _announce(conversation: Conversation, event: str, line: ChatMessage | None = None) -> None:
    """After commit: the console reloads its list; the chat's two sides get the new line or status."""
    realtime.publish(TOPIC_CONSOLE, event, escape(str(conversation.pk)))
    if line is not None:
        realtime.publish(chat_topic(conversation.pk), "line", json.dumps(line_payload(line)))
    if event in ("chat_taken", "chat_ended"):
        realtime.publish(chat_topic(conversation.pk), "status", json.dumps({"status": conversation.status}))


def chat_visitor_end(*, conversation: Conversation) -> Conversation:
    """The visitor closed the chat: same as an agent ending it, without an agent."""
    return chat_end(conversation=conversation, acting_user=None)


# --- The agents' side ---------------------------------------------------------------------------


def chats_waiting_and_open() -> QuerySet[Conversation]:
    """Chats not yet ended, oldest first (the queue page)."""
    return (
        Conversation.objects.filter(kind=ConversationKind.CHAT)
        .exclude(status=ConversationStatus.CLOSED)
        .select_related("assignee", "customer", "site")
        .order_by("created_at", "id")
    )


def _check_may_change(conversation: Conversation, user) -> None:
    """Ending, opening a case and linking a customer: the answering agent's or a supervisor's to do."""
    if not user.has_perm("channels.use_console") or not chat_may_change(user=user, conversation=conversation):
        raise ApplicationError(
            "not_your_chat", _("Only the agent answering this chat, or a supervisor, may do this."), status_code=403
        )


def _check_may_answer(conversation: Conversation, user) -> None:
    if conversation.status == ConversationStatus.CLOSED:
        raise ApplicationError("chat_closed", _("This chat has ended."), status_code=409)
    if conversation.assignee_id != user.pk and not user.has_perm("channels.supervise_queues"):
        raise ApplicationError(
            "not_your_chat", _("Take the chat before answering it (another agent may have it)."), status_code=409
        )


@transaction.atomic
def chat_take(*, conversation: Conversation, agent) -> Conversation:
    """Assign a waiting chat to ``agent`` (status open) and tell the visitor who answers.

    The row is locked, so two agents clicking "take" together get one chat each at most: the second
    gets ``ApplicationError`` ``already_taken`` (409). Taking one's own chat again is a no-op.
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status == ConversationStatus.CLOSED:
        raise ApplicationError("chat_closed", _("This chat has ended."), status_code=409)
    if conversation.assignee_id == agent.pk:
        return conversation
    if conversation.assignee_id is not None:
        raise ApplicationError("already_taken", _("Another agent has already taken this chat."), status_code=409)
    conversation.assignee = agent
    conversation.status = ConversationStatus.OPEN
    conversation.save(update_fields=["assignee", "status"])
    line = ChatMessage.objects.create(
        conversation=conversation,
        customer=conversation.customer,
        author=ChatAuthor.SYSTEM,
        body=_("%(name)s joined the chat.") % {"name": agent.first_name or agent.get_username()},
    )
    transaction.on_commit(lambda: _announce(conversation, "chat_taken", line))
    return conversation


@transaction.atomic
def chat_agent_reply(*, conversation: Conversation, agent, body: str) -> ChatMessage:
    """The agent answers; the first answer meets the linked case's first-response SLA."""
    body = _clean_text(body, field="body")
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _check_may_answer(conversation, agent)
    line = ChatMessage.objects.create(
        conversation=conversation, customer=conversation.customer, author=ChatAuthor.AGENT, agent=agent, body=body
    )
    conversation.last_message_at = line.created_at
    conversation.save(update_fields=["last_message_at"])
    if conversation.case_id and (case := Case.objects.filter(pk=conversation.case_id).first()):
        case_agent_responded(case, at=line.created_at)
    transaction.on_commit(lambda: _announce(conversation, "chat_message", line))
    return line


def url_check_pushable(url: str) -> str:
    """The URL if it is an absolute http(s) link; ``ApplicationError`` on ``url`` otherwise."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise ApplicationError(
            "invalid_url", _("Push a full web address starting with http:// or https://."), field="url"
        )
    return url


@transaction.atomic
def chat_push_page(*, conversation: Conversation, agent, url: str) -> ChatMessage:
    """Send a page to the visitor: a line carrying ``pushed_url`` that the widget opens."""
    url = url_check_pushable(url)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _check_may_answer(conversation, agent)
    line = ChatMessage.objects.create(
        conversation=conversation,
        customer=conversation.customer,
        author=ChatAuthor.AGENT,
        agent=agent,
        body=_("Here is a page for you: %(url)s") % {"url": url},
        pushed_url=url,
    )
    conversation.last_message_at = line.created_at
    conversation.save(update_fields=["last_message_at"])
    transaction.on_commit(lambda: _announce(conversation, "chat_message", line))
    return line


@transaction.atomic
def chat_customer_link(*, conversation: Conversation, customer, acting_user) -> Conversation:
    """This chat's visitor is ``customer``: set it on the conversation, its case, interactions and lines.

    In one transaction, as the composite keys want (DESIGN.md section 4). Links the visitor's browser
    to the customer too. A chat already linked to another customer is refused, and so is an agent who is
    not answering the chat (``not_your_chat``, 403; a supervisor may).
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _check_may_change(conversation, acting_user)
    if conversation.customer_id == customer.pk:
        return conversation
    if conversation.customer_id is not None:
        raise ApplicationError(
            "already_linked", _("This chat is already linked to another customer."), field="customer"
        )
    if not customer.is_live:
        raise ApplicationError("not_live", _("This customer was merged or anonymised."), field="customer")
    conversation.customer = customer
    conversation.save(update_fields=["customer"])
    ChatMessage.objects.filter(conversation=conversation, customer__isnull=True).update(customer=customer)
    Interaction.objects.filter(conversation=conversation, customer__isnull=True).update(customer=customer)
    if conversation.case_id:
        Case.objects.filter(pk=conversation.case_id, customer__isnull=True).update(customer=customer)
    from channels.models import CallbackRequest

    CallbackRequest.objects.filter(conversation=conversation, customer__isnull=True).update(customer=customer)
    if conversation.site_id:
        _visitor_stitch(conversation.site, conversation.visitor_id, customer, "chat")
    return conversation


@transaction.atomic
def chat_case_open(*, conversation: Conversation, agent, subject: str = "", category: str = "request") -> Case:
    """Open a case for this chat (the chat's customer, its queue, assigned to the agent).

    Refused (``not_your_chat``, 403) to an agent who is not answering the chat; a supervisor may.
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _check_may_change(conversation, agent)
    if conversation.case_id and Case.objects.filter(pk=conversation.case_id).exists():
        raise ApplicationError("case_exists", _("This chat already has a case."), field="subject")
    case = case_open(
        subject=(subject or "").strip() or conversation.subject or _("Chat"),
        channel=InteractionChannel.CHAT,
        customer=conversation.customer,
        category=category,
        queue=conversation.queue,
        assignee=agent,
        acting_user=agent,
    )
    conversation.case = case
    conversation.save(update_fields=["case"])
    Interaction.objects.filter(conversation=conversation, case__isnull=True).update(case=case)
    return case


def transcript_html(lines: list[ChatMessage]) -> str:
    """The transcript as simple HTML (escaped text; sanitised again by ``interaction_record``)."""
    rows = []
    for line in lines:
        if line.author == ChatAuthor.SYSTEM:
            who = _("System")
        elif line.author == ChatAuthor.AGENT:
            who = line.agent.get_full_name() or line.agent.get_username() if line.agent_id else _("Agent")
        else:
            who = _("Visitor")
        when = timezone.localtime(line.created_at).strftime("%H:%M")
        text = escape(line.body).replace("\n", "<br>")
        if line.pushed_url:
            text += f' <a href="{escape(line.pushed_url)}">{escape(line.pushed_url)}</a>'
        rows.append(f"<p><small>{when}</small> <strong>{escape(who)}</strong>: {text}</p>")
    return "\n".join(rows)


@transaction.atomic
def chat_end(*, conversation: Conversation, acting_user=None) -> Conversation:
    """End the chat and record it as ONE interaction (channel chat) on the timeline.

    The interaction carries the transcript (sanitised HTML), the first lines as summary, the duration
    and the agent who answered; its customer is the chat's (None until identified: linking the chat
    later attaches it). Ending an ended chat is a no-op. ``acting_user`` None is the visitor; an agent
    who is not answering the chat is refused (``not_your_chat``, 403; a supervisor may).
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status == ConversationStatus.CLOSED:
        return conversation
    if acting_user is not None:
        _check_may_change(conversation, acting_user)
    now = timezone.now()
    closing = ChatMessage.objects.create(
        conversation=conversation,
        customer=conversation.customer,
        author=ChatAuthor.SYSTEM,
        body=_("The chat has ended."),
        created_at=now,
    )
    lines = list(ChatMessage.objects.filter(conversation=conversation).select_related("agent").order_by("id"))
    spoken = [line for line in lines if line.author != ChatAuthor.SYSTEM]
    summary = text_summary(" / ".join(line.body for line in spoken[:SUMMARY_LINES]))
    agent = conversation.assignee or acting_user
    interaction_record(
        channel=InteractionChannel.CHAT,
        direction=Direction.INBOUND,
        kind=InteractionKind.CHAT,
        customer=conversation.customer,
        agent=agent,
        occurred_at=conversation.created_at,
        subject=conversation.subject or _("Chat"),
        body_html=transcript_html(lines),
        summary=summary,
        duration_seconds=max(0, int((now - conversation.created_at).total_seconds())),
        case=Case.objects.filter(pk=conversation.case_id).first() if conversation.case_id else None,
        conversation=conversation,
        external_id=f"chat:{conversation.pk}",
        metadata={
            "site": conversation.site_id,
            "visitor_id": conversation.visitor_id,
            "lines": len(spoken),
            "ended_by": "agent" if acting_user is not None else "visitor",
        },
    )
    conversation.status = ConversationStatus.CLOSED
    conversation.closed_at = now
    conversation.last_message_at = now
    conversation.save(update_fields=["status", "closed_at", "last_message_at"])
    transaction.on_commit(lambda: _announce(conversation, "chat_ended", closing))
    return conversation


def visitor_pages(*, conversation: Conversation, limit: int = 50) -> list[WebEvent]:
    """The visitor's web events on the chat's site, newest first (this session and the ones before)."""
    if not conversation.site_id or not conversation.visitor_id:
        return []
    return list(
        WebEvent.objects.filter(site_id=conversation.site_id, visitor_id=conversation.visitor_id).order_by(
            "-occurred_at", "-id"
        )[:limit]
    )

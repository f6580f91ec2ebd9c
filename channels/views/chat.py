"""The agents' web contact center: the queue of chats and call-backs, one chat, one call-back.

Thin shells around ``channels.services.chat`` and ``channels.services.callbacks``; live updates come
over SSE (``channels.realtime``): the pages reload their lists from the database on each event.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels import realtime
from channels.access import chat_get_for_user, chat_may_change
from channels.choices import CallbackStatus, CaseCategory, ChatAuthor, ConversationStatus, WebEventType
from channels.services import callbacks as callback_services
from channels.services import chat as chat_services
from crm.access import staff_view
from crm.errors import ApplicationError

CONSOLE = "channels.use_console"
# The chat pages' own stream also carries the agent's toasts, so the staff shell's toast listener (a
# second EventSource) stays out: over HTTP/1.1 a browser opens at most 6 connections per host, which
# two streams per tab use up with three chat tabs open (every other request of the agent then waits).
ONE_STREAM = {"page_streams_toasts": True}
HIGHLIGHTED_EVENTS = {WebEventType.PRODUCT_VIEW, WebEventType.CART_ADD, WebEventType.CART_ABANDON}


def _queue_context() -> dict:
    now = timezone.now()
    chats = list(chat_services.chats_waiting_and_open())
    callbacks = list(callback_services.callbacks_open()[:200])
    return {
        "now": now,
        "waiting_chats": [c for c in chats if c.status == ConversationStatus.WAITING],
        "open_chats": [c for c in chats if c.status != ConversationStatus.WAITING],
        "callbacks": callbacks,
    }


@staff_view(permission=CONSOLE)
def chat_queue(request: HttpRequest) -> HttpResponse:
    """Waiting and open chats and open call-backs, oldest first; live over SSE (topic ``console``)."""
    return render(request, "channels/chat/queue.html", {**_queue_context(), **ONE_STREAM})


@staff_view(permission=CONSOLE)
def chat_queue_hx(request: HttpRequest) -> HttpResponse:
    return render(request, "channels/chat/queue.html#lists", _queue_context())


def _agent_topic(request: HttpRequest) -> str:
    """The signed-in agent's own topic (screen pops, toasts): the chat pages' one stream carries it too."""
    return f"agent:{request.user.pk}"


@staff_view(permission=CONSOLE)
def chat_console_stream(request: HttpRequest) -> HttpResponse:
    chat_services.db_release_for_stream()
    return realtime.sse_response(request, [chat_services.TOPIC_CONSOLE, _agent_topic(request)])


def _chat_context(request: HttpRequest, conversation) -> dict:
    user = request.user
    lines = list(chat_services.chat_lines(conversation=conversation, limit=1000).select_related("agent"))
    pages = chat_services.visitor_pages(conversation=conversation)
    pending_callbacks = (
        callback_services.callbacks_pending_for_customer(customer=conversation.customer)
        if conversation.customer_id
        else []
    )
    may_change = chat_may_change(user=user, conversation=conversation)
    return {
        "conversation": conversation,
        "lines": lines,
        "pages": pages,
        "highlighted": HIGHLIGHTED_EVENTS,
        "is_mine": conversation.assignee_id == user.pk,
        "may_answer": conversation.status != ConversationStatus.CLOSED
        and (conversation.assignee_id == user.pk or user.has_perm("channels.supervise_queues")),
        "may_open_case": user.has_perm("channels.add_case") and not conversation.case_id and may_change,
        "may_link": user.has_perm("customers.view_customer") and conversation.customer_id is None and may_change,
        "case_categories": CaseCategory.choices,
        "pending_callbacks": pending_callbacks,
        "authors": ChatAuthor,
    }


@staff_view(permission=CONSOLE)
def chat_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = chat_get_for_user(user=request.user, pk=pk)
    context = _chat_context(request, conversation)
    # Who the visitor's typed email names: a suggestion, "claimed, not verified", never a link (the
    # full page only: the transcript and composer partials that reload on every line do not show it).
    if request.user.has_perm("customers.view_customer"):
        context["claimed_customer"] = chat_services.chat_claimed_customer(conversation=conversation)
    return render(request, "channels/chat/detail.html", {**context, **ONE_STREAM})


@staff_view(permission=CONSOLE)
def chat_transcript_hx(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = chat_get_for_user(user=request.user, pk=pk)
    return render(request, "channels/chat/detail.html#transcript", _chat_context(request, conversation))


@staff_view(permission=CONSOLE)
def chat_stream(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = chat_get_for_user(user=request.user, pk=pk)
    chat_services.db_release_for_stream()
    return realtime.sse_response(request, [chat_services.chat_topic(conversation.pk), _agent_topic(request)])


def _act(request: HttpRequest, pk: int, action, *, for_change: bool = False) -> HttpResponse:
    """Run ``action(conversation)``; errors become a message on the chat page (or a 4xx partial for htmx).

    ``for_change``: only the agent answering the chat or a supervisor may (403 for a teammate).
    """
    conversation = chat_get_for_user(user=request.user, pk=pk, for_change=for_change)
    try:
        result = action(conversation)
    except ApplicationError as error:
        if request.htmx:
            response = render(
                request,
                "channels/chat/detail.html#composer",
                {**_chat_context(request, conversation), "error": error.message},
            )
            response.status_code = 400 if error.status_code == 400 else error.status_code
            return response
        messages.error(request, error.message)
        return redirect("channels:chat_detail", pk=conversation.pk)
    if isinstance(result, HttpResponse):
        return result
    conversation.refresh_from_db()
    if request.htmx:
        response = render(request, "channels/chat/detail.html#composer", _chat_context(request, conversation))
        response["HX-Trigger"] = "chat-updated"  # the transcript reloads even if the SSE stream is down
        return response
    return redirect("channels:chat_detail", pk=conversation.pk)


@require_POST
@staff_view(permission=CONSOLE)
def chat_take(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c: chat_services.chat_take(conversation=c, agent=request.user))


@require_POST
@staff_view(permission=CONSOLE)
def chat_reply(request: HttpRequest, pk: int) -> HttpResponse:
    body = request.POST.get("body", "")
    return _act(request, pk, lambda c: chat_services.chat_agent_reply(conversation=c, agent=request.user, body=body))


@require_POST
@staff_view(permission=CONSOLE)
def chat_push(request: HttpRequest, pk: int) -> HttpResponse:
    url = request.POST.get("url", "")
    return _act(request, pk, lambda c: chat_services.chat_push_page(conversation=c, agent=request.user, url=url))


@require_POST
@staff_view(permission=CONSOLE)
def chat_end(request: HttpRequest, pk: int) -> HttpResponse:
    def end(conversation):
        chat_services.chat_end(conversation=conversation, acting_user=request.user)
        messages.success(request, _("Chat ended: it is on the timeline."))
        return redirect("channels:chat_queue")

    return _act(request, pk, end, for_change=True)


@require_POST
@staff_view(permission="channels.add_case")
def chat_case_open(request: HttpRequest, pk: int) -> HttpResponse:
    subject = request.POST.get("subject", "")
    category = request.POST.get("category", CaseCategory.REQUEST)
    if category not in CaseCategory.values:
        category = CaseCategory.REQUEST

    def open_case(conversation):
        case = chat_services.chat_case_open(conversation=conversation, agent=request.user, subject=subject,
                                            category=category)  # fmt: skip
        messages.success(request, _("Case %(number)s opened.") % {"number": case.number})
        return redirect("channels:chat_detail", pk=conversation.pk)

    return _act(request, pk, open_case, for_change=True)


@staff_view(permission="customers.view_customer")
def chat_customer_search_hx(request: HttpRequest, pk: int) -> HttpResponse:
    from customers.search import customer_search

    conversation = chat_get_for_user(user=request.user, pk=pk, for_change=True)  # searching is for linking
    query = request.GET.get("q", "").strip()
    hits = customer_search(query=query, limit=8) if len(query) >= 2 else []
    return render(request, "channels/chat/detail.html#customer_hits",
                  {"conversation": conversation, "hits": hits, "query": query})  # fmt: skip


@require_POST
@staff_view(permission="customers.view_customer")
def chat_customer_link(request: HttpRequest, pk: int) -> HttpResponse:
    from customers.access import customer_get_for_user

    def link(conversation):
        try:
            customer_pk = int(request.POST.get("customer", ""))
        except ValueError:
            raise ApplicationError("required", _("Choose a customer."), field="customer") from None
        if not request.user.has_perm(CONSOLE):
            raise ApplicationError("forbidden", _("You may not change this chat."), status_code=403)
        customer = customer_get_for_user(user=request.user, pk=customer_pk)
        chat_services.chat_customer_link(conversation=conversation, customer=customer, acting_user=request.user)
        messages.success(request, _("Chat linked to %(name)s.") % {"name": customer})
        return redirect("channels:chat_detail", pk=conversation.pk)

    return _act(request, pk, link, for_change=True)


# --- Call-backs ----------------------------------------------------------------------------------


@staff_view(permission="channels.view_callbackrequest")
def callback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    callback = callback_services.callback_get_for_agent(user=request.user, pk=pk)
    return render(request, "channels/chat/callback.html", {
        "callback": callback,
        "statuses": CallbackStatus,
        "may_work": request.user.has_perm("channels.change_callbackrequest"),
        "is_open": callback.status in callback_services.OPEN_STATUSES,
    })  # fmt: skip


@require_POST
@staff_view(permission="channels.change_callbackrequest")
def callback_take(request: HttpRequest, pk: int) -> HttpResponse:
    callback = callback_services.callback_get_for_agent(user=request.user, pk=pk)
    try:
        callback_services.callback_take(callback=callback, agent=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("channels:chat_queue")
    return redirect("channels:callback_detail", pk=callback.pk)


@require_POST
@staff_view(permission="channels.change_callbackrequest")
def callback_close(request: HttpRequest, pk: int) -> HttpResponse:
    callback = callback_services.callback_get_for_agent(user=request.user, pk=pk)
    duration = request.POST.get("duration_minutes", "").strip()
    try:
        minutes = int(duration) if duration else None
        if minutes is not None and not 0 <= minutes <= 600:
            raise ValueError
    except ValueError:
        messages.error(request, _("The duration is a number of minutes (0 to 600)."))
        return redirect("channels:callback_detail", pk=callback.pk)
    try:
        callback_services.callback_close(
            callback=callback,
            agent=request.user,
            result=request.POST.get("result", ""),
            outcome=request.POST.get("outcome", ""),
            duration_seconds=minutes * 60 if minutes is not None else None,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("channels:callback_detail", pk=callback.pk)
    messages.success(request, _("Call-back closed."))
    return redirect("channels:chat_queue")

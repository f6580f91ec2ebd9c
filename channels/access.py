"""Fetch a channels object and check the caller may use it, in one call (views and APIs never split the two).

Every helper takes the user and the id as it came in (a URL part, a form field), and:

- raises ``PermissionDenied`` when the role lacks the permission the action needs;
- raises ``Http404`` when there is no such object, when the id is not a number at all (``"abc"``,
  ``"1 OR 1=1"``, a number beyond the database's range: never a 500), or when the object belongs to
  someone the user may not see;
- for a change (``action="change"``), raises ``Http404`` when the object's customer was merged away
  or anonymised: that record is closed, and the services refuse to write into it too.

The customer itself is fetched by ``customers.access.customer_get_for_user``; these helpers use it for
the customer an object belongs to, so "who may see this customer" is decided in one place.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from channels.choices import ConversationKind
from channels.models import Attachment, CallbackRequest, Case, Conversation, FollowUp, Letter
from customers.access import object_pk

# What a staff member may do with each kind of object, as the Django permission it needs.
CASE_ACTIONS = {"view": "channels.view_case", "change": "channels.change_case"}
CONVERSATION_ACTIONS = {"view": "channels.view_conversation", "change": "channels.change_conversation"}
CALLBACK_ACTIONS = {"view": "channels.view_callbackrequest", "change": "channels.change_callbackrequest"}
# Marking a letter returned is the back office's (Supervisor, Admin) and the mail house's (Integration).
LETTER_ACTIONS = {"view": "channels.view_letter", "change": "channels.change_letter"}
FOLLOW_UP_ACTIONS = {"view": "channels.view_followup", "change": "channels.change_followup"}


def _require(user, permission: str) -> None:
    if not (user.is_authenticated and user.is_active and user.has_perm(permission)):
        raise PermissionDenied


def _fetch(queryset: QuerySet, pk, message: str):
    number = object_pk(pk)
    found = queryset.filter(pk=number).first() if number is not None else None
    if found is None:
        raise Http404(message)
    return found


def _check_customer(user, customer, *, live: bool) -> None:
    """The object is part of ``customer``'s record: whoever may not see the customer may not see it."""
    if customer is None:
        return
    if not user.has_perm("customers.view_customer"):
        raise PermissionDenied
    if live and not customer.is_live:
        raise Http404(_("This customer was merged or anonymised: their record cannot be changed."))


def case_get_for_user(*, user, pk, action: str = "view") -> Case:
    """Return case ``pk`` if ``user`` may ``view`` or ``change`` it (see the module's rules)."""
    _require(user, CASE_ACTIONS[action])
    queryset = Case.objects.select_related("customer", "queue", "assignee", "sla_policy")
    case = _fetch(queryset, pk, _("No such case."))
    _check_customer(user, case.customer, live=action != "view")
    return case


def conversation_get_for_user(*, user, pk, action: str = "view", kind: str | None = None) -> Conversation:
    """Return conversation ``pk`` (of ``kind`` when given: an email thread, an SMS thread...)."""
    _require(user, CONVERSATION_ACTIONS[action])
    queryset = Conversation.objects.select_related("customer", "case", "queue")
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    conversation = _fetch(queryset, pk, _("No such conversation."))
    _check_customer(user, conversation.customer, live=action != "view")
    return conversation


def email_thread_get_for_user(*, user, pk) -> Conversation:
    return conversation_get_for_user(user=user, pk=pk, kind=ConversationKind.EMAIL)


def callback_get_for_user(*, user, pk, action: str = "view") -> CallbackRequest:
    """Return call-back request ``pk``; every console user sees the call-back queue."""
    _require(user, CALLBACK_ACTIONS[action])
    callback = _fetch(CallbackRequest.objects.select_related("customer", "assignee"), pk,
                      _("No such call-back request."))  # fmt: skip
    _check_customer(user, callback.customer, live=action != "view")
    return callback


def letter_get_for_user(*, user, pk, action: str = "view") -> Letter:
    """Return letter ``pk``; ``change`` (mark it returned) is the back office's and the mail house's."""
    _require(user, LETTER_ACTIONS[action])
    queryset = Letter.objects.select_related("customer", "template", "created_by", "batch", "address")
    letter = _fetch(queryset, pk, _("No such letter."))
    _check_customer(user, letter.customer, live=action != "view")
    return letter


def attachment_get_for_user(*, user, pk) -> Attachment:
    """Return attachment ``pk`` if ``user`` may read the interaction (and the customer) it came with."""
    _require(user, "channels.view_interaction")
    attachment = _fetch(Attachment.objects.select_related("customer"), pk, _("No such attachment."))
    _check_customer(user, attachment.customer, live=False)
    return attachment


def follow_up_get_for_user(*, user, pk, action: str = "view") -> FollowUp:
    """Return follow-up task ``pk``: the assignee's own, or anyone's for a supervisor.

    Someone else's task is refused to an agent (``PermissionDenied``).
    """
    _require(user, FOLLOW_UP_ACTIONS[action])
    task = _fetch(FollowUp.objects.select_related("customer", "assignee"), pk, _("No such task."))
    if task.assignee_id != user.pk and not user.has_perm("channels.supervise_queues"):
        raise PermissionDenied
    _check_customer(user, task.customer, live=False)
    return task


# -- chats (the chat engineer's; rebuilt here after this file was overwritten by mistake: check) ------


def chat_get_for_user(*, user, pk, for_change: bool = False) -> Conversation:
    """A chat an agent may open (any console user sees every chat of the queue); 404 for anything else.

    ``for_change``: only the agent answering the chat or a supervisor may (``PermissionDenied`` otherwise).
    """
    queryset = Conversation.objects.filter(kind=ConversationKind.CHAT).select_related("assignee", "customer", "site",
                                                                                        "case")  # fmt: skip
    number = object_pk(pk)
    conversation = queryset.filter(pk=number).first() if number is not None else None
    if conversation is None or not user.has_perm("channels.use_console"):
        raise Http404(_("No such chat."))
    if for_change and not chat_may_change(user=user, conversation=conversation):
        raise PermissionDenied
    return conversation


def chat_may_change(*, user, conversation: Conversation) -> bool:
    """Ending a chat, opening a case from it, linking it to a customer: its answering agent or a supervisor."""
    return conversation.assignee_id == user.pk or user.has_perm("channels.supervise_queues")

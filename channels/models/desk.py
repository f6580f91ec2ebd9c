"""The service desk: queues and their agents, SLA policies, cases, follow-up tasks."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.choices import (
    AssignmentRule,
    CaseCategory,
    CasePriority,
    CaseStatus,
    FollowUpStatus,
    InteractionChannel,
)
from customers.models import Customer


class Queue(models.Model):
    """Where cases, chats and call-backs wait; assigned round-robin or pulled by hand."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("code"), max_length=50, unique=True)
    assignment_rule = models.CharField(_("assignment"), max_length=20, choices=AssignmentRule.choices,
                                       default=AssignmentRule.ROUND_ROBIN)  # fmt: skip
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="channels.QueueMember",
                                     related_name="queues", blank=True)  # fmt: skip
    is_default = models.BooleanField(_("default queue"), default=False,
                                     help_text=_("Cases with no other queue land here."))  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="queue_one_default"),
        ]
        permissions = [("supervise_queues", _("See queue load and SLA breaches, reassign work"))]

    def __str__(self) -> str:
        return self.name


class QueueMember(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships")
    is_available = models.BooleanField(_("available"), default=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("queue member")
        verbose_name_plural = _("queue members")
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="queue_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.queue}"


class SlaPolicy(models.Model):
    """Due times for first response and resolution, in business minutes (Europe/Paris business hours,
    French public holidays excluded), per case category and optionally per priority."""

    category = models.CharField(_("category"), max_length=20, choices=CaseCategory.choices)
    priority = models.CharField(_("priority"), max_length=10, choices=CasePriority.choices, blank=True,
                                help_text=_("Empty: every priority of the category."))  # fmt: skip
    first_response_minutes = models.PositiveIntegerField(_("first response within (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution within (business minutes)"))
    business_day_start = models.TimeField(_("business day starts"), default="09:00")
    business_day_end = models.TimeField(_("business day ends"), default="18:00")

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["category", "priority"]
        constraints = [models.UniqueConstraint(fields=["category", "priority"], name="sla_policy_unique")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.get_priority_display() or '*'}"


class NextCaseNumber(models.Func):
    """``CS-0001234`` from a PostgreSQL sequence (migration 0001)."""

    template = "'CS-' || lpad(nextval('channels_case_number_seq')::text, 7, '0')"
    output_field = models.CharField()

    def __init__(self):
        super().__init__()


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    fields=["customer", "status", "priority", "category", "queue", "assignee", "first_response_breached",
            "resolution_breached"],
    model_name="CaseEvent",
)  # fmt: skip
class Case(models.Model):
    """A request, complaint, information request or claim, from any channel."""

    number = models.CharField(_("number"), max_length=16, db_default=NextCaseNumber(), editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="cases", verbose_name=_("customer"))  # fmt: skip
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=CaseCategory.choices,
                                default=CaseCategory.REQUEST)  # fmt: skip
    priority = models.CharField(_("priority"), max_length=10, choices=CasePriority.choices,
                                default=CasePriority.NORMAL)  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.NEW)
    channel = models.CharField(_("opened through"), max_length=20, choices=InteractionChannel.choices)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
                              verbose_name=_("queue"))  # fmt: skip
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="assigned_cases", verbose_name=_("assignee"))  # fmt: skip
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")  # fmt: skip
    sla_policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    first_response_breached = models.BooleanField(_("first response SLA breached"), default=False)
    resolution_breached = models.BooleanField(_("resolution SLA breached"), default=False)
    reopened_count = models.PositiveIntegerField(_("reopened"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "id"], name="case_customer_id"),
            # Case numbers come from a sequence; uniqueness is per customer to keep the schema rule.
            models.UniqueConstraint(fields=["customer", "number"], name="case_number_per_customer"),
        ]
        indexes = [
            models.Index(fields=["number"], name="case_number"),
            models.Index(fields=["customer", "-created_at"], name="case_customer"),
            models.Index(fields=["-created_at", "-id"], name="case_created_desc"),  # the case list's keyset order
            # What the SLA breach job scans every 5 minutes: only open cases not flagged yet.
            models.Index(
                fields=["first_response_due_at"],
                name="case_first_response_watch",
                condition=Q(
                    status__in=["new", "open", "waiting"],
                    first_responded_at__isnull=True,
                    first_response_breached=False,
                ),
            ),  # fmt: skip
            models.Index(
                fields=["resolution_due_at"],
                name="case_resolution_watch",
                condition=Q(status__in=["new", "open", "waiting"], resolution_breached=False),
            ),  # fmt: skip
            models.Index(
                fields=["queue", "status", "resolution_due_at"],
                name="case_queue_open",
                condition=Q(status__in=["new", "open", "waiting"]),
            ),  # fmt: skip
            models.Index(
                fields=["assignee", "resolution_due_at"],
                name="case_assignee_open",
                condition=Q(status__in=["new", "open", "waiting"]),
            ),  # fmt: skip
            # The supervisor view (polled every 30 s): per-queue and per-agent load read from open cases
            # only, by an index-only scan of this partial index (closed cases, most of the table, unread).
            models.Index(
                fields=["queue", "assignee"],
                include=["resolution_due_at", "created_at", "first_response_breached", "resolution_breached"],
                name="case_open_load",
                condition=Q(status__in=["new", "open", "waiting"]),
            ),  # fmt: skip
            # Its "needs attention" list: open cases unassigned or breached, the most overdue first.
            models.Index(
                fields=["resolution_due_at", "created_at"],
                name="case_open_attention",
                condition=Q(status__in=["new", "open", "waiting"])
                & (Q(assignee__isnull=True) | Q(first_response_breached=True) | Q(resolution_breached=True)),
            ),  # fmt: skip
            # The case list's search on the subject (``icontains`` is ``UPPER(subject) LIKE UPPER(%q%)``).
            GinIndex(OpClass(Upper("subject"), name="gin_trgm_ops"), name="case_subject_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("channels:case_detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status in ("new", "open", "waiting")


class FollowUp(models.Model):
    """A to-do for an agent: call back, send a document, check an order (from a visit, call or case)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="follow_ups", verbose_name=_("customer"))  # fmt: skip
    title = models.CharField(_("to do"), max_length=255)
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="follow_ups", verbose_name=_("assignee"))  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=FollowUpStatus.choices,
                              default=FollowUpStatus.OPEN)  # fmt: skip
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, db_constraint=False,
                             related_name="follow_ups")  # fmt: skip
    interaction = models.ForeignKey("channels.Interaction", on_delete=models.SET_NULL, null=True, blank=True,
                                    db_constraint=False, related_name="follow_ups")  # fmt: skip
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        ordering = ["due_at"]
        constraints = [models.UniqueConstraint(fields=["customer", "id"], name="follow_up_customer_id")]
        indexes = [
            models.Index(
                fields=["assignee", "due_at"], name="follow_up_assignee_open", condition=Q(status="open")
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return self.title

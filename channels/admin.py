"""Django admin of the channels app: configuration edited here, the timeline and web events read-only.

Configuration (channel costs, queues and their members, SLA policies, sites, mailboxes, response
templates, agent profiles) is edited here by administrators. What agents and adapters record
(interactions, web events, messages, calls, letters, surveys) is read-only: it changes through the
services, which keep the timeline, the SLAs and the history consistent.
"""

from __future__ import annotations

from django.contrib import admin

from channels.models import (
    AgentProfile,
    Attachment,
    CallbackRequest,
    CallSession,
    Case,
    ChannelCost,
    ChatMessage,
    Conversation,
    FollowUp,
    Interaction,
    Letter,
    LetterBatch,
    Mailbox,
    Queue,
    QueueMember,
    ResponseTemplate,
    SatisfactionSurvey,
    Site,
    SlaPolicy,
    VisitorLink,
    WebEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services: listed and inspected here, never edited by hand."""

    show_full_result_count = False  # no COUNT(*) over tables of millions of rows

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# -- Configuration ------------------------------------------------------------------------------------


@admin.register(ChannelCost)
class ChannelCostAdmin(admin.ModelAdmin):
    """What one contact costs per channel; copied onto each interaction recorded afterwards."""

    list_display = ["channel", "amount", "currency", "updated_at"]
    list_editable = ["amount"]
    readonly_fields = ["updated_at"]
    ordering = ["channel"]


class QueueMemberInline(admin.TabularInline):
    model = QueueMember
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "is_available", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "assignment_rule", "is_default", "is_active"]
    list_filter = ["assignment_rule", "is_active", "is_default"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [QueueMemberInline]


@admin.register(QueueMember)
class QueueMemberAdmin(admin.ModelAdmin):
    list_display = ["queue", "user", "is_available", "last_assigned_at"]
    list_filter = ["queue", "is_available"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "queue__name"]
    autocomplete_fields = ["user"]
    list_select_related = ["queue", "user"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["category", "priority", "first_response_minutes", "resolution_minutes", "business_day_start",
                    "business_day_end"]  # fmt: skip
    list_filter = ["category", "priority"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "key"]


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "imap_host", "queue", "is_active", "last_polled_at", "last_error"]
    list_filter = ["is_active", "queue"]
    search_fields = ["name", "address", "imap_host"]
    readonly_fields = ["uid_validity", "last_uid", "last_polled_at", "last_error"]

    def get_form(self, request, obj=None, **kwargs):
        from django import forms

        form = super().get_form(request, obj, **kwargs)
        # The IMAP password is written, never shown back.
        form.base_fields["password"].widget = forms.PasswordInput(render_value=True)
        return form


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "language", "subject", "is_active", "updated_at"]
    list_filter = ["channel", "language", "is_active"]
    search_fields = ["name", "subject", "body"]


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "extension", "store", "is_available"]
    list_filter = ["is_available", "store"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "extension", "store"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


# -- Records (read-only) -----------------------------------------------------------------------------


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["filename", "content_type", "size", "sha256"]


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "channel", "kind", "direction", "customer", "agent", "subject", "outcome", "cost"]
    list_filter = ["channel", "kind", "direction"]
    search_fields = ["=customer__account_number", "=external_id", "subject"]
    date_hierarchy = "occurred_at"
    list_select_related = ["customer", "agent"]
    raw_id_fields = ["customer", "agent", "case", "conversation"]
    # The sanitised body and the details are shown, not edited.
    readonly_fields = ["body", "metadata"]
    inlines = [AttachmentInline]


@admin.register(WebEvent)
class WebEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "event_type", "site", "visitor_id", "customer", "url"]
    list_filter = ["event_type", "site"]
    search_fields = ["=visitor_id", "=session_id", "=customer__account_number"]
    raw_id_fields = ["customer"]
    readonly_fields = ["properties"]
    list_select_related = ["site", "customer"]


@admin.register(VisitorLink)
class VisitorLinkAdmin(ReadOnlyAdmin):
    list_display = ["visitor_id", "site", "customer", "via", "linked_at"]
    list_filter = ["site", "via"]
    search_fields = ["=visitor_id", "=customer__account_number"]
    list_select_related = ["site", "customer"]


class ChatMessageInline(ReadOnlyInline):
    model = ChatMessage
    fields = ["created_at", "author", "agent", "body", "pushed_url"]


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["subject", "kind", "status", "customer", "queue", "assignee", "last_message_at"]
    list_filter = ["kind", "status", "queue"]
    search_fields = ["subject", "=customer__account_number", "visitor_email"]
    raw_id_fields = ["customer", "case", "assignee"]
    list_select_related = ["customer", "queue", "assignee"]
    inlines = [ChatMessageInline]


@admin.register(CallbackRequest)
class CallbackRequestAdmin(ReadOnlyAdmin):
    list_display = ["preferred_from", "phone", "name", "reason", "status", "queue", "assignee"]
    list_filter = ["status", "queue"]
    search_fields = ["phone", "name", "=customer__account_number"]
    list_select_related = ["queue", "assignee"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "subject", "customer", "category", "priority", "status", "queue", "assignee",
                    "resolution_due_at", "resolution_breached"]  # fmt: skip
    list_filter = ["status", "category", "priority", "queue", "first_response_breached", "resolution_breached"]
    search_fields = ["=number", "subject", "=customer__account_number"]
    raw_id_fields = ["customer", "assignee", "created_by"]
    list_select_related = ["customer", "queue", "assignee"]


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["due_at", "title", "customer", "assignee", "status"]
    list_filter = ["status"]
    search_fields = ["title", "=customer__account_number", "assignee__username"]
    list_select_related = ["customer", "assignee"]


@admin.register(CallSession)
class CallSessionAdmin(ReadOnlyAdmin):
    list_display = ["rang_at", "call_id", "direction", "caller_number", "called_line", "agent", "state", "customer"]
    list_filter = ["state", "direction"]
    search_fields = ["=call_id", "caller_number", "caller_e164"]
    list_select_related = ["agent", "customer"]


@admin.register(Letter)
class LetterAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "customer", "subject", "status", "batch", "returned_at"]
    list_filter = ["status"]
    search_fields = ["subject", "=customer__account_number"]
    list_select_related = ["customer", "batch"]


@admin.register(LetterBatch)
class LetterBatchAdmin(ReadOnlyAdmin):
    list_display = ["name", "template", "letter_count", "created_by", "created_at"]
    search_fields = ["name"]


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(ReadOnlyAdmin):
    list_display = ["case", "customer", "channel", "status", "send_after", "score", "answered_at"]
    list_filter = ["status", "channel", "score"]
    search_fields = ["=customer__account_number"]
    readonly_fields = ["comment"]
    list_select_related = ["customer", "case"]

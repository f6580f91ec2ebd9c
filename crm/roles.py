"""The four staff roles and the permissions each one holds.

Roles are Django groups whose permissions are kept here, in code, and written to the database after
every ``migrate`` (so a deployment cannot drift from what the tests check). Later issues add their
apps' permissions to these lists.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.translation import gettext_lazy as _

AGENT = "Agent"
SUPERVISOR = "Supervisor"
MARKETER = "Marketer"
ADMIN = "Admin"
INTEGRATION = "Integration"

# Role names are stored in English (they are group names); these entries make them translatable.
ROLE_LABELS = {
    AGENT: _("Agent"),
    SUPERVISOR: _("Supervisor"),
    MARKETER: _("Marketer"),
    ADMIN: _("Admin"),
    INTEGRATION: _("Integration"),
}

ROLE_DESCRIPTIONS = {
    AGENT: _("Sales and service agents: find customers, log contacts, work cases and leads."),
    SUPERVISOR: _("Team leads: everything an agent does, plus queues, SLAs and team dashboards."),
    MARKETER: _("Marketing: segments, campaigns, templates and their results."),
    ADMIN: _("Administrators: staff accounts, roles, settings, operations and every screen."),
    INTEGRATION: _("Service accounts of other systems (ERP, e-shop, billing) that sync data through the API."),
}

_CUSTOMER_READ = [
    "customers.view_customer",
    "customers.view_contactpoint",
    "customers.view_postaladdress",
    "customers.view_consent",
    "customers.view_order",
    "customers.view_contract",
    "customers.view_invoice",
    "customers.view_product",
    "customers.view_attributedefinition",
]
_CHANNELS_READ = [
    "channels.view_interaction",
    "channels.view_case",
    "channels.view_conversation",
    "channels.view_webevent",
    "channels.view_satisfactionsurvey",
    "channels.view_letter",
    "channels.view_responsetemplate",
    "channels.view_channelcost",
]
_CHANNELS_AGENT = [
    *_CHANNELS_READ,
    "channels.use_console",
    "channels.reply_customer",
    "channels.add_interaction",
    "channels.add_case",
    "channels.change_case",
    "channels.change_conversation",
    "channels.view_callbackrequest",
    "channels.add_callbackrequest",
    "channels.change_callbackrequest",
    "channels.view_followup",
    "channels.add_followup",
    "channels.change_followup",
    "channels.add_letter",
    "channels.view_queue",
]
_AGENT = [
    "crm.use_agent_console",
    "crm.use_api_tokens",
    *_CUSTOMER_READ,
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contactpoint",
    "customers.change_contactpoint",
    "customers.delete_contactpoint",
    "customers.add_postaladdress",
    "customers.change_postaladdress",
    "customers.delete_postaladdress",
    "customers.add_consent",
    "customers.record_consent",
    "customers.view_duplicatepair",
    "customers.add_savedfilter",
    *_CHANNELS_AGENT,
]
_SUPERVISOR = [
    *_AGENT,
    "crm.supervise_team",
    "crm.view_analytics",
    "crm.view_user",
    "customers.merge_customer",
    "customers.change_duplicatepair",
    "customers.export_customer",
    "customers.import_customer",
    "customers.view_importjob",
    "channels.supervise_queues",
    "channels.change_queue",
    "channels.change_queuemember",
    "channels.view_queuemember",
    "channels.view_slapolicy",
    "channels.add_letterbatch",
    "channels.view_letterbatch",
    "channels.change_letter",  # marks returned mail: the back office's (docs/channels/postal.md)
]
_MARKETER = ["crm.use_marketing", "crm.view_analytics", "crm.use_api_tokens", *_CUSTOMER_READ,
             "customers.add_savedfilter", *_CHANNELS_READ, "channels.add_letterbatch", "channels.view_letterbatch",
             "channels.add_responsetemplate", "channels.change_responsetemplate"]  # fmt: skip
# Campaigns (segments, templates, campaigns and their messages): the marketers' own area.
_CAMPAIGNS = [
    "campaigns.view_segment", "campaigns.add_segment", "campaigns.change_segment", "campaigns.delete_segment",
    "campaigns.refresh_segment", "campaigns.view_template", "campaigns.add_template", "campaigns.change_template",
    "campaigns.view_campaign", "campaigns.add_campaign", "campaigns.change_campaign", "campaigns.manage_campaign",
    "campaigns.view_message",
]  # fmt: skip
_MARKETER += _CAMPAIGNS
_ADMIN = sorted(
    {
        *_SUPERVISOR,
        *_MARKETER,
        "crm.view_operations",
        "customers.erase_customer",
        "customers.view_stagechange",
        "customers.add_product",
        "customers.change_product",
        "customers.add_order",
        "customers.change_order",
        "customers.add_contract",
        "customers.change_contract",
        "customers.add_invoice",
        "customers.change_invoice",
        "customers.add_attributedefinition",
        "customers.change_attributedefinition",
        "customers.delete_attributedefinition",
        "customers.view_importmapping",
        "customers.change_importmapping",
        "crm.add_user",
        "crm.change_user",
        "crm.view_user",
        "crm.view_apitoken",
        "crm.add_apitoken",
        "crm.change_apitoken",
        "auth.view_group",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.add_periodictask",
        "django_celery_beat.view_intervalschedule",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.add_intervalschedule",
        "django_celery_beat.add_crontabschedule",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "channels.add_queue",
        "channels.add_queuemember",
        "channels.delete_queuemember",
        "channels.add_slapolicy",
        "channels.change_slapolicy",
        "channels.change_channelcost",
        "channels.view_site",
        "channels.add_site",
        "channels.change_site",
        "channels.view_mailbox",
        "channels.add_mailbox",
        "channels.change_mailbox",
        "channels.view_agentprofile",
        "channels.add_agentprofile",
        "channels.change_agentprofile",
        "campaigns.view_pressurepolicy",
        "campaigns.change_pressurepolicy",
        "campaigns.view_senderidentity",
        "campaigns.add_senderidentity",
        "campaigns.change_senderidentity",
        "campaigns.view_suppression",
        "campaigns.add_suppression",
        "campaigns.delete_suppression",
    }
)

# A system account whose API token syncs the back office: no screens, only the data it feeds.
_INTEGRATION = [
    "crm.use_api_tokens",
    *_CUSTOMER_READ,
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contactpoint",
    "customers.change_contactpoint",
    "customers.add_postaladdress",
    "customers.change_postaladdress",
    "customers.add_consent",
    "customers.record_consent",
    "customers.add_product",
    "customers.change_product",
    "customers.add_order",
    "customers.change_order",
    "customers.add_contract",
    "customers.change_contract",
    "customers.add_invoice",
    "customers.change_invoice",
    "channels.view_interaction",
    "channels.add_interaction",
    "channels.ingest_email",
    "channels.view_letter",
    "channels.change_letter",  # the mail house reports returned letters
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    AGENT: _AGENT,
    SUPERVISOR: _SUPERVISOR,
    MARKETER: _MARKETER,
    ADMIN: _ADMIN,
    INTEGRATION: _INTEGRATION,
}


@transaction.atomic
def roles_sync(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the role groups and set their permissions to exactly ``ROLE_PERMISSIONS``.

    Raises ``LookupError`` naming a permission that does not exist (a typo, or a model not migrated).
    """
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for role, names in ROLE_PERMISSIONS.items():
        wanted = set()
        for name in names:
            app_label, codename = name.split(".")
            try:
                wanted.add(Permission.objects.using(using).get(content_type__app_label=app_label, codename=codename))
            except Permission.DoesNotExist:
                raise LookupError(f"Role {role!r} names the permission {name!r}, which does not exist.") from None
        group, _created = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(wanted)


def roles_sync_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    from crm.schedule import schedule_sync

    roles_sync(using=using)
    schedule_sync(using=using)

"""Choices shared by the customer record and the apps above it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Title(models.TextChoices):
    NONE = "", _("—")
    MR = "mr", _("Mr")
    MS = "ms", _("Ms")
    MX = "mx", _("Mx")
    DR = "dr", _("Dr")


class Stage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    LEAD = "lead", _("Lead")
    CUSTOMER = "customer", _("Customer")
    LOYAL = "loyal", _("Loyal")
    LAPSED = "lapsed", _("Lapsed")
    CHURNED = "churned", _("Churned")


class Channel(models.TextChoices):
    """Channels a customer can be reached on (consent, preferred channel)."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    POSTAL_MAIL = "postal_mail", _("Postal mail")
    WEB = "web_personalisation", _("Web personalisation")


class PreferredChannel(models.TextChoices):
    NONE = "", _("No preference")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    POSTAL_MAIL = "postal_mail", _("Postal mail")
    FACE_TO_FACE = "face_to_face", _("Face to face")
    WEB = "web", _("Web self-service")


class Purpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Service")
    PROFILING = "profiling", _("Profiling")
    PARTNERS = "partners", _("Partners")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentSource(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    AGENT = "agent", _("Agent")
    IMPORT = "import", _("Import")
    PORTAL = "portal", _("Self-care portal")
    UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link")
    API = "api", _("API")
    SMS_KEYWORD = "sms_keyword", _("SMS keyword (STOP)")


class ContactKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    MOBILE = "mobile", _("Mobile")
    SOCIAL = "social", _("Social handle")


class RecordSource(models.TextChoices):
    """Through which way a change reached the record (kept in history)."""

    AGENT = "agent", _("Agent")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    PORTAL = "portal", _("Self-care portal")
    MERGE = "merge", _("Merge")
    SYSTEM = "system", _("System")

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    SMS = "sms", _("SMS")
    WEB = "web", _("Web")
    SOCIAL = "social", _("Social")
    IN_PERSON = "in_person", _("In person")
    MEETING = "meeting", _("Meeting")
    PORTAL = "portal", _("Portal")
    LETTER = "letter", _("Letter")


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    FORMER_CUSTOMER = "former_customer", _("Former customer")


class Tier(models.TextChoices):
    PLATINUM = "platinum", _("Platinum")
    GOLD = "gold", _("Gold")
    IRON = "iron", _("Iron")
    LEAD = "lead", _("Lead")


class RfmSegment(models.TextChoices):
    """The named RFM segments (``rapport.analytics.rfm.SEGMENT_MAP``), as stored on an account."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE_THEM = "cant_lose_them", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class ChurnRisk(models.TextChoices):
    """Churn-risk band of an account: high at or above the alert threshold, medium from half of it."""

    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class CompanySize(models.TextChoices):
    MICRO = "1-10", _("1–10 employees")
    SMALL = "11-50", _("11–50 employees")
    MEDIUM = "51-250", _("51–250 employees")
    LARGE = "251-1000", _("251–1,000 employees")
    ENTERPRISE = "1001+", _("More than 1,000 employees")


class Industry(models.TextChoices):
    AGRICULTURE = "agriculture", _("Agriculture")
    CONSTRUCTION = "construction", _("Construction")
    EDUCATION = "education", _("Education")
    ENERGY = "energy", _("Energy")
    FINANCE = "finance", _("Finance")
    HEALTHCARE = "healthcare", _("Healthcare")
    HOSPITALITY = "hospitality", _("Hospitality")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    MEDIA = "media", _("Media")
    NONPROFIT = "nonprofit", _("Non-profit")
    PUBLIC = "public", _("Public sector")
    REAL_ESTATE = "real_estate", _("Real estate")
    RETAIL = "retail", _("Retail")
    SOFTWARE = "software", _("Software")
    TELECOM = "telecom", _("Telecommunications")
    TRANSPORT = "transport", _("Transport and logistics")
    OTHER = "other", _("Other")


class EmailKind(models.TextChoices):
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    OTHER = "other", _("Other")


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    FAX = "fax", _("Fax")
    OTHER = "other", _("Other")


class AddressKind(models.TextChoices):
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    OTHER = "other", _("Other")


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    ACCOUNTS = "accounts", _("Accounts")


class ImportMode(models.TextChoices):
    CREATE_ONLY = "create", _("Create new records only")
    UPSERT = "upsert", _("Update existing, create the rest")


class ImportDuplicates(models.TextChoices):
    """What an import does with a new row the identity matcher finds to be a probable duplicate."""

    AUTO_MERGE = "auto_merge", _("Merge sure duplicates, queue doubtful ones for review")
    REVIEW = "review", _("Import, and queue possible duplicates for review")
    SKIP = "skip", _("Skip rows that probably duplicate a contact")
    OFF = "off", _("Do not look for duplicates")


class MatchKey(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    EXTERNAL_ID = "external_id", _("External id")
    NAME = "name", _("Name (accounts)")
    DOMAIN = "domain", _("Domain (accounts)")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DuplicateStatus(models.TextChoices):
    """Where a proposed pair of contacts stands. ``merged`` and ``not_duplicate`` are decisions."""

    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged")
    NOT_DUPLICATE = "not_duplicate", _("Not a duplicate")
    SKIPPED = "skipped", _("Skipped")


class DuplicateSource(models.TextChoices):
    BATCH = "batch", _("Duplicate scan")
    IMPORT = "import", _("Import")
    CREATE = "create", _("New contact")
    MANUAL = "manual", _("By hand")

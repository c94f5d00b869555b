"""Accounts (companies) and contacts (people), with their emails, phones, addresses and links.

Invariants kept by ``parties.services`` (the only writers):

* ``ContactEmail.email`` is lower-case and valid; ``ContactPhone.number`` is E.164.
* ``Contact.email`` / ``Contact.phone`` repeat the contact's primary email / phone (or are
  empty). They exist so that list pages read one table at a million rows.
* ``Contact.account`` repeats the account of the primary ``AccountMembership``.
* ``search_text`` holds everything search matches on (names, emails, phone digits, company),
  rebuilt on every write; the search indexes (pg_trgm + tsvector on PostgreSQL, FTS5 on
  SQLite) are built over it, plus, on PostgreSQL, a pg_trgm index over a contact's
  ``first_name || ' ' || last_name`` for typo-tolerant name matching (``parties.search``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.models import OwnedModel
from rapport.parties.choices import (
    AddressKind,
    Channel,
    ChurnRisk,
    CompanySize,
    DuplicateSource,
    DuplicateStatus,
    EmailKind,
    ImportDuplicates,
    ImportKind,
    ImportMode,
    ImportStatus,
    Industry,
    LifecycleStage,
    MatchKey,
    PhoneKind,
    RfmSegment,
    Tier,
)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Account(OwnedModel):
    """A company or organisation. ``parent`` builds the account hierarchy (no cycles)."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=253, blank=True, default="")
    website = models.URLField(_("website"), max_length=300, blank=True, default="")
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True, default="")
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True, default="")
    annual_revenue = models.DecimalField(_("annual revenue"), max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="accounts")
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    search_text = models.TextField(blank=True, default="", editable=False)
    # Scores written by the insights scoring job (``party_scores_set``), kept here so that lists and
    # segments filter on them without reaching into the layer above. Derived data: no version bump,
    # no audit event, never edited by hand; "" means not scored (no purchases, or never run).
    # db_default: the importer's COPY names only the columns it fills; the scores start empty.
    value_segment = models.CharField(
        _("RFM segment"), max_length=20, choices=RfmSegment.choices, blank=True, default="", db_default="",
        editable=False,
    )
    value_tier = models.CharField(
        _("value tier"), max_length=10, choices=Tier.choices, blank=True, default="", db_default="",
        editable=False,
    )
    churn_risk = models.CharField(
        _("churn risk"), max_length=10, choices=ChurnRisk.choices, blank=True, default="", db_default="",
        editable=False,
    )

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        permissions = [("merge_account", _("Can merge duplicate accounts"))]
        indexes = [
            models.Index(fields=["name", "id"], name="account_name"),
            models.Index(Lower("name"), name="account_name_lower"),
            models.Index(fields=["domain"], name="account_domain"),
            models.Index(fields=["-updated_at", "-id"], name="account_updated"),
            models.Index(fields=["external_id"], name="account_external_id"),
            # The score filters of the account list, each with its default order (name, id).
            models.Index(fields=["value_segment", "name", "id"], name="account_segment_name"),
            models.Index(fields=["value_tier", "name", "id"], name="account_value_tier_name"),
            models.Index(fields=["churn_risk", "name", "id"], name="account_churn_risk_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(OwnedModel):
    """A person. May belong to several accounts (``memberships``); ``account`` is the primary one."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=100, blank=True, default="")
    title = models.CharField(_("job title"), max_length=150, blank=True, default="")
    email = models.CharField(_("email"), max_length=254, blank=True, default="", editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="", editable=False)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    reports_to = models.ForeignKey(
        "self", verbose_name=_("reports to"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True, default=""
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.PROSPECT
    )
    source = models.CharField(_("source"), max_length=50, blank=True, default="")
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        permissions = [("merge_contact", _("Can merge duplicate contacts"))]
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name"),
            models.Index(fields=["-updated_at", "-id"], name="contact_updated"),
            models.Index(fields=["-created_at", "-id"], name="contact_created"),
            models.Index(fields=["email"], name="contact_email"),
            models.Index(fields=["lifecycle_stage", "last_name", "first_name", "id"], name="contact_stage_name"),
            models.Index(fields=["external_id"], name="contact_external_id"),
            models.Index(fields=["owner", "last_name", "first_name", "id"], name="contact_owner_name"),
            models.Index(fields=["team", "last_name", "first_name", "id"], name="contact_team_name"),
            # The duplicate check's "same surname and birthday" candidates (parties.duplicate_check).
            models.Index(fields=["birthday"], name="contact_birthday"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(_("email"), max_length=254)
    kind = models.CharField(_("kind"), max_length=10, choices=EmailKind.choices, default=EmailKind.WORK)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [models.UniqueConstraint(fields=["contact", "email"], name="contact_email_unique")]
        indexes = [models.Index(fields=["email"], name="contactemail_email")]

    def __str__(self) -> str:
        return self.email


class ContactPhone(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number (E.164)"), max_length=20)
    kind = models.CharField(_("kind"), max_length=10, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [models.UniqueConstraint(fields=["contact", "number"], name="contact_phone_unique")]
        indexes = [models.Index(fields=["number"], name="contactphone_number")]

    def __str__(self) -> str:
        return self.number


class Address(models.Model):
    """A postal address of exactly one contact or one account."""

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("kind"), max_length=10, choices=AddressKind.choices, default=AddressKind.WORK)
    street = models.CharField(_("street"), max_length=300, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    region = models.CharField(_("region"), max_length=100, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True, default="")
    country = models.CharField(_("country"), max_length=2, blank=True, default="", help_text=_("ISO 3166 code"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(contact__isnull=False, account__isnull=True) | Q(contact__isnull=True, account__isnull=False)
                ),
                name="address_has_one_owner",
            )
        ]
        # The duplicate check's "same surname and postal code" candidates (parties.duplicate_check).
        indexes = [models.Index(Upper("postal_code"), name="address_postal_code")]

    def __str__(self) -> str:
        return ", ".join(p for p in (self.street, self.postal_code, self.city, self.region, self.country) if p)


class AccountMembership(models.Model):
    """A contact's role at an account. At most one membership per contact is primary."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=100, blank=True, default="")
    is_primary = models.BooleanField(_("primary"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [models.UniqueConstraint(fields=["contact", "account"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.contact} at {self.account}"


class ImportJob(models.Model):
    """One import of a file of contacts or accounts, from upload to the final report.

    The file is kept under ``RAPPORT_IMPORT_DIR``. ``error_file`` lists every rejected row
    (line, column, reason); ``skip_file`` every row skipped as a probable duplicate (line, the
    contact or line it matched, probability). Re-running a finished job's file changes nothing
    (idempotent). Counts: ``created + updated + unchanged + error + merged + skipped`` is the
    number of data rows read; ``queued_count`` counts pairs sent to the review queue (their rows
    are among the created ones). ``0 < review_at <= auto_merge_at <= 1``.
    """

    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    file_path = models.CharField(max_length=500)
    original_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10, default="csv")
    encoding = models.CharField(max_length=20, blank=True, default="")
    delimiter = models.CharField(max_length=2, blank=True, default="")
    mapping = models.JSONField(default=dict, blank=True, help_text="file column -> field")
    match_key = models.CharField(max_length=12, choices=MatchKey.choices, default=MatchKey.EMAIL)
    mode = models.CharField(max_length=10, choices=ImportMode.choices, default=ImportMode.UPSERT)
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    error_file = models.CharField(max_length=500, blank=True, default="")
    # Duplicates (contacts only): what to do with a new row the matcher pairs with an existing
    # contact or an earlier row of the file; thresholds as the duplicate scan's.
    duplicates = models.CharField(max_length=10, choices=ImportDuplicates.choices, default=ImportDuplicates.REVIEW)
    auto_merge_at = models.FloatField(default=0.98)
    review_at = models.FloatField(default=0.8)
    merged_count = models.PositiveIntegerField(default=0)
    queued_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    skip_file = models.CharField(max_length=500, blank=True, default="")
    stage = models.CharField(max_length=10, blank=True, default="")  # "import" or "matching" while running
    matching_seconds = models.FloatField(default=0.0)
    message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.original_name})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, int(100 * self.processed_rows / self.total_rows))


# --- identity: proposed duplicates and merges (``parties.duplicates``, ``parties.merge``) ------------


class PartyPair(models.Model):
    """What a pair of possibly duplicate parties holds, whatever the kind: the matcher's probability
    and evidence, the review status and who decided it. Subclasses add the two links, named by
    ``first_field`` and ``second_field`` (the lower id first)."""

    first_field = ""
    second_field = ""

    probability = models.FloatField(_("probability"))
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=14, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    source = models.CharField(_("source"), max_length=10, choices=DuplicateSource.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"#{self.first_id} ~ #{self.second_id} ({self.probability:.2f})"

    # The kind-neutral names the review queue reads (``parties.identity_kinds``).
    @property
    def first(self) -> Any:
        return getattr(self, self.first_field)

    @property
    def second(self) -> Any:
        return getattr(self, self.second_field)

    @property
    def first_id(self) -> int:
        return getattr(self, f"{self.first_field}_id")

    @property
    def second_id(self) -> int:
        return getattr(self, f"{self.second_field}_id")


class DuplicatePair(PartyPair):
    """Two contacts that may be the same person, as the matcher proposed them and a reviewer decided.

    Invariants: ``contact_a_id < contact_b_id`` and one row per pair, so a decision ("not a
    duplicate") is remembered and the pair is never proposed again. The links carry no database
    constraint on purpose: a decision outlives its contacts (a merged-away duplicate, a deleted
    contact), and undoing a merge brings the duplicate back under its own id, which reconnects
    its pairs. Readers join the contacts, so a pair with a vanished contact is never shown.
    """

    contact_a = models.ForeignKey(
        Contact, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    contact_b = models.ForeignKey(Contact, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    first_field, second_field = "contact_a", "contact_b"

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["contact_a", "contact_b"], name="duplicatepair_unique"),
            models.CheckConstraint(condition=Q(contact_a__lt=F("contact_b")), name="duplicatepair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-probability", "-id"], name="duplicatepair_queue")]



class AccountDuplicatePair(PartyPair):
    """Two accounts that may be the same company: the account twin of :class:`DuplicatePair`.

    The same invariants: ``account_a_id < account_b_id``, one row per pair, a decision is kept
    for good, no database constraint on the links (a decision outlives its accounts).
    """

    account_a = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    account_b = models.ForeignKey(Account, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    first_field, second_field = "account_a", "account_b"

    class Meta:
        verbose_name = _("possible duplicate account")
        verbose_name_plural = _("possible duplicate accounts")
        constraints = [
            models.UniqueConstraint(fields=["account_a", "account_b"], name="accountduplicatepair_unique"),
            models.CheckConstraint(condition=Q(account_a__lt=F("account_b")), name="accountduplicatepair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-probability", "-id"], name="accountduplicatepair_queue")]



class PartyMerge(models.Model):
    """What one merge did, in enough detail to undo it exactly.

    ``duplicate_snapshot``: the duplicate's full row (``row``) and its own child rows
    (``children``: emails, phones, addresses, memberships, tags), as they were. ``repointed``:
    ``[{"model", "field", "pks"}]``, the rows of other tables moved from the duplicate to the
    survivor. ``dropped``: rows that could not move without breaking a unique constraint (the
    survivor had the same link already), as full rows to put back. ``added``: the values the merge
    gave the survivor (emails, phones, addresses, memberships, tags). ``survivor_changes``:
    ``{field: [before, after]}`` of the survivor's own fields.
    """

    duplicate_id = models.BigIntegerField()
    duplicate_repr = models.CharField(max_length=200, blank=True, default="")
    duplicate_snapshot = models.JSONField(default=dict)
    repointed = models.JSONField(default=list, blank=True)
    dropped = models.JSONField(default=list, blank=True)
    added = models.JSONField(default=dict, blank=True)
    survivor_changes = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undo_report = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


class ContactMerge(PartyMerge):
    """One contact merged into another. ``survivor`` follows the survivor into later merges."""

    survivor = models.ForeignKey(Contact, null=True, on_delete=models.SET_NULL, related_name="+")
    pair = models.ForeignKey(DuplicatePair, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pair_status = models.CharField(max_length=14, blank=True, default="")

    class Meta(PartyMerge.Meta):
        verbose_name = _("contact merge")
        verbose_name_plural = _("contact merges")

    def __str__(self) -> str:
        return f"#{self.duplicate_id} into #{self.survivor_id}"


class AccountMerge(PartyMerge):
    """One account merged into another (see :class:`PartyMerge`); ``survivor`` follows later merges."""

    survivor = models.ForeignKey(Account, null=True, on_delete=models.SET_NULL, related_name="+")
    pair = models.ForeignKey(AccountDuplicatePair, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pair_status = models.CharField(max_length=14, blank=True, default="")

    class Meta(PartyMerge.Meta):
        verbose_name = _("account merge")
        verbose_name_plural = _("account merges")

    def __str__(self) -> str:
        return f"#{self.duplicate_id} into #{self.survivor_id}"


class FittedMatcher(models.Model):
    """The identity matcher fitted by the last duplicate scan of one kind of party.

    ``data`` is ``rapport.analytics.resolve.Matcher.to_dict()``: the Fellegi–Sunter model and the
    frequent-name shares, a few hundred kilobytes. One row per ``kind``, replaced by each scan, so
    the create-time duplicate check (``parties.duplicate_check``) scores new records with the
    parameters learnt from this database rather than the built-in defaults.
    """

    kind = models.CharField(max_length=10, unique=True)
    data = models.JSONField()
    records = models.PositiveIntegerField(default=0)
    # False: the scan saw too few duplicates to learn from, so ``data`` is the built-in model
    # with this database's name frequencies (``rapport.analytics.resolve.matcher_of_run``).
    learnt = models.BooleanField(default=True)
    fitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fitted matcher")
        verbose_name_plural = _("fitted matchers")

    def __str__(self) -> str:
        return f"{self.kind} matcher ({self.records} records, {self.fitted_at:%Y-%m-%d})"

"""Shared ground: the jurisdiction tree, the people registry, staff roles, audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fangkong.core import permissions

# Materialised path: one fixed-width base-36 segment per level. A node's subtree is
# every row whose path starts with the node's path, which is a range scan on one
# index (see JurisdictionQuerySet.subtree_of).
PATH_SEGMENT = 4
PATH_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PATH_MAX_CHILDREN = len(PATH_ALPHABET) ** PATH_SEGMENT


def path_segment(index: int) -> str:
    if not 0 <= index < PATH_MAX_CHILDREN:
        raise ValueError("too many children under one jurisdiction node")
    out = []
    for _i in range(PATH_SEGMENT):
        index, rem = divmod(index, len(PATH_ALPHABET))
        out.append(PATH_ALPHABET[rem])
    return "".join(reversed(out))


def common_path(paths: Iterable[str]) -> str:
    """The deepest tree node holding every path: their longest common prefix, cut
    to whole segments ("" for none, or for paths that share no segment)."""
    current: str | None = None
    for path in paths:
        if current is None:
            current = path
        elif not path.startswith(current):
            n = 0
            limit = min(len(current), len(path))
            while n < limit and current[n] == path[n]:
                n += 1
            current = current[: n - n % PATH_SEGMENT]
            if not current:
                return ""
    return current or ""


def path_upper_bound(path: str) -> str:
    """The smallest string greater than every path that starts with ``path``."""
    return path + "~"  # '~' sorts after [0-9A-Z] in binary (C / SQLite BINARY) order


class BaseModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def in_language(zh: str, en: str) -> str:
    """A text kept in both languages, as the reader reads it: the English one for
    an English reader when there is one, else the Chinese one."""
    if (get_language() or "zh-hans").startswith("en") and en:
        return en
    return zh


class BilingualName(models.Model):
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class JurisdictionQuerySet(models.QuerySet["Jurisdiction"]):
    def subtree_of(self, path: str, *, include_self: bool = True) -> JurisdictionQuerySet:
        qs = self.filter(path__gte=path, path__lt=path_upper_bound(path))
        if not include_self:
            qs = qs.exclude(path=path)
        return qs


class Jurisdiction(BilingualName, BaseModel):
    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        DISTRICT = "district", _("District / county")
        SUBDISTRICT = "subdistrict", _("Subdistrict / town")
        COMMUNITY = "community", _("Community / village")
        GRID = "grid", _("Grid unit")
        BUILDING = "building", _("Building")

    LEVEL_ORDER = [c.value for c in Level]

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    code = models.CharField(
        _("official code"),
        max_length=32,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Official administrative code where one exists, e.g. 140100 for Taiyuan."),
    )
    path = models.CharField(max_length=64, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(editable=False)
    boundary = models.JSONField(_("boundary (GeoJSON geometry)"), null=True, blank=True)
    resident_count = models.PositiveIntegerField(
        _("residents"), default=0, help_text=_("Derived; refreshed by a job.")
    )
    next_child_index = models.PositiveIntegerField(default=0, editable=False)

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        indexes = [
            models.Index(fields=["parent", "name_zh"], name="core_juris_parent_name"),
            models.Index(fields=["level", "path"], name="core_juris_level_path"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_index(self) -> int:
        return self.LEVEL_ORDER.index(self.level)

    def contains(self, other: Jurisdiction | str) -> bool:
        other_path = other if isinstance(other, str) else other.path
        return other_path.startswith(self.path)

    def ancestor_paths(self) -> list[str]:
        return [self.path[: i * PATH_SEGMENT] for i in range(1, self.depth + 1)]

    def ancestors(self) -> JurisdictionQuerySet:
        return Jurisdiction.objects.filter(path__in=self.ancestor_paths()).order_by("path")


class KeyGroup(BilingualName, BaseModel):
    """重点人群: a key population group (medical staff, cold-chain workers, ...). Data."""

    code = models.SlugField(max_length=40, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("key group")
        verbose_name_plural = _("key groups")

    def __str__(self) -> str:
        return self.name


class Household(BaseModel):
    building = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(_("unit / room"), max_length=40, blank=True)
    external_ref = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return f"{self.building_id}/{self.unit}"


class PersonQuerySet(models.QuerySet["Person"]):
    def active(self) -> PersonQuerySet:
        return self.filter(merged_into__isnull=True)

    def under(self, path: str) -> PersonQuerySet:
        return self.filter(scope_path__gte=path, scope_path__lt=path_upper_bound(path))


class Person(BaseModel):
    class DocumentType(models.TextChoices):
        PRC_ID = "prc_id", _("PRC resident ID card")
        PASSPORT = "passport", _("Passport")
        OTHER = "other", _("Other document")
        LINE_LIST = "line_list", _("Line-list identifier (imported case without documents)")

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")
        UNKNOWN = "U", _("Unknown")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", _("Simplified Chinese")
        EN = "en", _("English")

    doc_type = models.CharField(_("document type"), max_length=16, choices=DocumentType.choices)
    doc_number_encrypted = models.TextField(editable=False)
    doc_hash = models.CharField(max_length=64, editable=False)
    doc_masked = models.CharField(_("document number"), max_length=64, editable=False)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=32, blank=True, editable=False)
    home = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("home building"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    # The tree path this record belongs to: home.path, or the registering staff
    # member's node for people without a home here (travellers). "Everyone under
    # this node" is then one range scan on this table. Kept in step by the
    # services that set `home`. Nodes are never re-parented (their paths, and
    # so the audit trail's scope, stay stable): a redrawn area gets new nodes.
    scope_path = models.CharField(max_length=64, default="", editable=False)
    home_unit = models.CharField(_("unit / room"), max_length=40, blank=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    key_groups = models.ManyToManyField(
        KeyGroup, blank=True, related_name="people", verbose_name=_("key groups")
    )
    limited_mobility = models.BooleanField(_("limited mobility"), default=False)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("registry", "person")
        verbose_name_plural = pgettext_lazy("registry", "people")
        constraints = [
            models.UniqueConstraint(
                fields=["doc_type", "doc_hash"],
                condition=models.Q(merged_into__isnull=True),
                name="core_person_unique_document",
            )
        ]
        indexes = [
            models.Index(fields=["scope_path", "id"], name="core_person_scope_path"),
            # The few merged-away duplicates of an area (coverage takes them off).
            models.Index(
                fields=["scope_path"],
                condition=models.Q(merged_into__isnull=False),
                name="core_person_merged_scope",
            ),
            models.Index(fields=["doc_hash"], name="core_person_doc_hash"),
            models.Index(fields=["name"], name="core_person_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.doc_masked})"

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        today = timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class Role(BilingualName, BaseModel):
    """A staff role; its capabilities are data (fixture ``roles.json``)."""

    code = models.SlugField(max_length=40, unique=True)
    capabilities = models.JSONField(default=list, help_text=_("Capability codes."))
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        conflict = permissions.separation_conflict(self.capabilities or [])
        if conflict:
            raise ValidationError({"capabilities": permissions.separation_message(conflict)})


class StaffProfile(BaseModel):
    """Binds a user to one jurisdiction node and one or more roles."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="staff", verbose_name=_("jurisdiction")
    )
    roles = models.ManyToManyField(Role, related_name="staff", verbose_name=_("roles"))
    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class ApiToken(BaseModel):
    """A personal API token; only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("Audit entries are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit entries are append-only.")


class AuditEntry(models.Model):
    """One write, recorded by the service that made it. Append-only."""

    time = models.DateTimeField(default=timezone.now, db_index=True)
    # PROTECT: a user with history is deactivated, never deleted, so no audit row changes.
    # No index of its own: (actor, time) below leads with it (one index less for every
    # write of every service to keep up).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_roles = models.CharField(max_length=300, blank=True)
    actor_jurisdiction_path = models.CharField(max_length=64, blank=True)
    # Looked up whole, never by prefix: a plain index (db_index would add PostgreSQL's
    # varchar_pattern_ops copy, one more index written by every audit row).
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    # Where the object lives in the tree, so auditors see only their subtree.
    scope_path = models.CharField(max_length=64, blank=True, default="")
    person_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["action"], name="core_audit_action"),
            models.Index(fields=["object_type", "object_id"], name="core_audit_object"),
            models.Index(fields=["person_id", "time"], name="core_audit_person"),
            models.Index(fields=["actor", "time"], name="core_audit_actor"),
            models.Index(fields=["scope_path", "time"], name="core_audit_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit entries are append-only.")


class Fact(models.Model):
    """A domain fact in the outbox (``core.events``): written in the publisher's
    transaction, delivered to each subscriber after it commits, retried by the
    minute job (``core.jobs.facts_retry``) while a handler fails."""

    name = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when every handler subscribed at the time of a delivery has succeeded.
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # When the retry job may try again (a delivery after commit does not wait).
    next_attempt_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("domain fact")
        verbose_name_plural = _("domain facts")
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="core_fact_pending",
                condition=models.Q(delivered_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class FactDelivery(models.Model):
    """One handler's successful run for one fact, written in the handler's own
    transaction: the delivery key that makes a retry skip what already ran."""

    fact = models.ForeignKey(Fact, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=200)
    delivered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fact delivery")
        verbose_name_plural = _("fact deliveries")
        constraints = [
            models.UniqueConstraint(fields=["fact", "handler"], name="core_fact_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} #{self.fact_id}"

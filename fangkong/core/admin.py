"""The admin, for system administrators. Account creations and changes of roles
made here are audited like the API's (``staff.create`` / ``staff.roles``): the
four-eyes rule (``core.foureyes``) traces who provisioned whom from those rows."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fangkong.core import permissions, services
from fangkong.core.audit import audit_record
from fangkong.core.models import ApiToken, AuditEntry, Jurisdiction, KeyGroup, Role, StaffProfile

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

    JurisdictionAdminBase = admin.ModelAdmin[Jurisdiction]
    KeyGroupAdminBase = admin.ModelAdmin[KeyGroup]
    RoleAdminBase = admin.ModelAdmin[Role]
    StaffProfileFormBase = forms.ModelForm[StaffProfile]
    StaffProfileAdminBase = admin.ModelAdmin[StaffProfile]
    UserAdminBase = UserAdmin[AuthUser]
    AuditEntryAdminBase = admin.ModelAdmin[AuditEntry]
    ApiTokenAdminBase = admin.ModelAdmin[ApiToken]
else:
    JurisdictionAdminBase = KeyGroupAdminBase = RoleAdminBase = admin.ModelAdmin
    StaffProfileAdminBase = AuditEntryAdminBase = ApiTokenAdminBase = admin.ModelAdmin
    StaffProfileFormBase = forms.ModelForm
    UserAdminBase = UserAdmin


@admin.register(Jurisdiction)
class JurisdictionAdmin(JurisdictionAdminBase):
    list_display = ["name_zh", "name_en", "level", "code", "path", "resident_count"]
    list_filter = ["level"]
    search_fields = ["name_zh", "name_en", "code"]
    readonly_fields = ["path", "depth", "resident_count"]
    raw_id_fields = ["parent"]


@admin.register(KeyGroup)
class KeyGroupAdmin(KeyGroupAdminBase):
    list_display = ["code", "name_zh", "name_en", "active"]


@admin.register(Role)
class RoleAdmin(RoleAdminBase):
    list_display = ["code", "name_zh", "name_en"]


class StaffProfileForm(StaffProfileFormBase):
    class Meta:
        model = StaffProfile
        fields = ["user", "jurisdiction", "roles", "display_name"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        roles = data.get("roles")
        if roles is not None:
            conflict = permissions.separation_conflict(c for r in roles for c in r.capabilities)
            if conflict:
                raise ValidationError({"roles": permissions.separation_message(conflict)})
        return data


def _role_codes(profile: StaffProfile | None) -> list[str]:
    if profile is None or profile.pk is None:
        return []
    return sorted(profile.roles.values_list("code", flat=True))


@admin.register(StaffProfile)
class StaffProfileAdmin(StaffProfileAdminBase):
    form = StaffProfileForm
    list_display = ["user", "display_name", "jurisdiction"]
    raw_id_fields = ["jurisdiction"]
    filter_horizontal = ["roles"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        before = _role_codes(StaffProfile.objects.filter(pk=form.instance.pk).first())
        if not change:
            before = []
        super().save_related(request, form, formsets, change)
        after = _role_codes(form.instance)
        if after != before:
            audit_record(
                actor=request.user,
                action="staff.roles",
                obj=form.instance.user,
                scope_path=form.instance.jurisdiction.path,
                changes={"roles": [before, after]},
            )


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)

# What makes an account more powerful when an administrator changes it.
_POWER_FIELDS = ("is_superuser", "is_staff", "is_active")


@admin.register(User)
class AuditedUserAdmin(UserAdminBase):
    """Django's user admin, with account creations and changes of power audited."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        old = User.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        if old is None:
            audit_record(
                actor=request.user,
                action="staff.create",
                obj=obj,
                changes={"username": [None, obj.get_username()]},
            )
            return
        changes = {
            f: [getattr(old, f), getattr(obj, f)]
            for f in _POWER_FIELDS
            if getattr(old, f) != getattr(obj, f)
        }
        if changes:
            audit_record(actor=request.user, action="staff.roles", obj=obj, changes=changes)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        obj = form.instance
        before = (set(obj.groups.all()), set(obj.user_permissions.all())) if change else None
        super().save_related(request, form, formsets, change)
        after = (set(obj.groups.all()), set(obj.user_permissions.all()))
        if before is not None and before != after:
            audit_record(
                actor=request.user,
                action="staff.roles",
                obj=obj,
                changes={
                    "groups": [sorted(str(g) for g in before[0]), sorted(str(g) for g in after[0])],
                    "permissions": [len(before[1]), len(after[1])],
                },
            )


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditEntryAdminBase):
    list_display = ["time", "actor_username", "action", "object_type", "object_id"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ApiTokenAdminBase):
    """Staff API tokens: seen, never made or edited here (only their owner's signed-in
    session makes one); revoked through ``api_token_revoke`` (audited)."""

    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        live = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        for token_id in live:
            services.api_token_revoke(
                actor=request.user, token_id=token_id, reason=str(_("Revoked in the admin"))
            )
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(live))
            % {"count": len(live)},
        )

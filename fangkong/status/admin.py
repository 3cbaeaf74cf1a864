"""The status rules an authority may change (data): levels, reason kinds, rules per
disease and version, the bases a manual change may cite, and the policy numbers."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fangkong.investigation.selectors.shared import disease_names
from fangkong.status.models import ManualBasis, ReasonKind, StatusLevel, StatusPolicy, StatusRule

if TYPE_CHECKING:
    ManualBasisAdminBase = admin.ModelAdmin[ManualBasis]
    StatusLevelAdminBase = admin.ModelAdmin[StatusLevel]
    ReasonKindAdminBase = admin.ModelAdmin[ReasonKind]
    StatusRuleAdminBase = admin.ModelAdmin[StatusRule]
    StatusPolicyAdminBase = admin.ModelAdmin[StatusPolicy]
else:
    ManualBasisAdminBase = StatusLevelAdminBase = ReasonKindAdminBase = admin.ModelAdmin
    StatusRuleAdminBase = StatusPolicyAdminBase = admin.ModelAdmin


@admin.register(ManualBasis)
class ManualBasisAdmin(ManualBasisAdminBase):
    list_display = ["code", "name_zh", "name_en", "health", "source_zh", "active"]
    list_filter = ["health", "active"]
    search_fields = ["code", "name_zh", "name_en"]


@admin.register(StatusLevel)
class StatusLevelAdmin(StatusLevelAdminBase):
    list_display = ["code", "name_zh", "name_en", "severity", "colour"]


@admin.register(ReasonKind)
class ReasonKindAdmin(ReasonKindAdminBase):
    list_display = ["code", "name_zh", "name_en", "health_basis"]


@admin.register(StatusRule)
class StatusRuleAdmin(StatusRuleAdminBase):
    list_display = ["kind", "disease", "version", "effective_from", "level", "duration_days"]
    list_filter = ["kind"]

    @admin.display(description=_("disease"))
    def disease(self, rule: StatusRule) -> str:
        if rule.disease_id is None:
            return str(_("any disease"))
        return disease_names().get(rule.disease_id, "—")


@admin.register(StatusPolicy)
class StatusPolicyAdmin(StatusPolicyAdminBase):
    list_display = ["pk", "manual_max_days", "bulk_threshold", "appeal_sla_hours"]

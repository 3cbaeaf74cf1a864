"""The status rules an authority may change (data): levels, reason kinds, rules per
disease and version, the bases a manual change may cite, and the policy numbers."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fangkong.investigation.selectors.shared import disease_names
from fangkong.status.models import ManualBasis, ReasonKind, StatusLevel, StatusPolicy, StatusRule


@admin.register(ManualBasis)
class ManualBasisAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "health", "source_zh", "active"]
    list_filter = ["health", "active"]
    search_fields = ["code", "name_zh", "name_en"]


@admin.register(StatusLevel)
class StatusLevelAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "severity", "colour"]


@admin.register(ReasonKind)
class ReasonKindAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "health_basis"]


@admin.register(StatusRule)
class StatusRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "disease", "version", "effective_from", "level", "duration_days"]
    list_filter = ["kind"]

    @admin.display(description=_("disease"))
    def disease(self, rule: StatusRule) -> str:
        if rule.disease_id is None:
            return str(_("any disease"))
        return disease_names().get(rule.disease_id, "—")


@admin.register(StatusPolicy)
class StatusPolicyAdmin(admin.ModelAdmin):
    list_display = ["pk", "manual_max_days", "bulk_threshold", "appeal_sla_hours"]

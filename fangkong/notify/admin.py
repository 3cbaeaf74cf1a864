"""Admin for notification templates (edited through ``template_save``: validated,
versioned and audited) and read-only views of batches, messages and opt-outs."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from fangkong.core import permissions
from fangkong.core.errors import ValidationFailed
from fangkong.notify.models import Batch, Message, MessageTemplate, OptOut, QuietHours
from fangkong.notify.services import template_save
from fangkong.notify.templating import validate_body

if TYPE_CHECKING:
    MessageTemplateFormBase = forms.ModelForm[MessageTemplate]
    MessageTemplateAdminBase = admin.ModelAdmin[MessageTemplate]
    ReadOnlyAdminBase = admin.ModelAdmin[Any]  # Batch, Message, OptOut
    QuietHoursAdminBase = admin.ModelAdmin[QuietHours]
else:
    MessageTemplateAdminBase = ReadOnlyAdminBase = QuietHoursAdminBase = admin.ModelAdmin
    MessageTemplateFormBase = forms.ModelForm


class MessageTemplateForm(MessageTemplateFormBase):
    class Meta:
        model = MessageTemplate
        fields = ["code", "language", "description", "body", "transactional", "active"]

    def clean_body(self) -> str:
        body: str = self.cleaned_data.get("body") or ""
        try:
            validate_body(body)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.fields.get("body") or str(exc)) from exc
        return body


@admin.register(MessageTemplate)
class MessageTemplateAdmin(MessageTemplateAdminBase):
    form = MessageTemplateForm
    list_display = ["code", "language", "version", "transactional", "active", "updated_at"]
    list_filter = ["language", "active", "transactional"]
    search_fields = ["code", "description", "body"]
    readonly_fields = ["version", "placeholders"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Code and language identify a template; change the text, not the identity.
        return [*self.readonly_fields, "code", "language"] if obj else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.has_capability(request.user, "notify.templates")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.has_capability(request.user, "notify.templates")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.has_capability(request.user, "notify.templates")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # messages refer to templates; deactivate instead

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.has_capability(request.user, "notify.templates")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        saved = template_save(
            actor=request.user,
            code=obj.code,
            language=obj.language,
            body=obj.body,
            description=obj.description,
            transactional=obj.transactional,
            active=obj.active,
        )
        obj.pk = saved.pk
        obj.version = saved.version
        obj.placeholders = saved.placeholders


class ReadOnlyAdmin(ReadOnlyAdminBase):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "purpose", "template_code", "status", "total", "queued", "created_at"]
    list_filter = ["status", "legally_required"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "purpose", "person_id", "status", "attempts", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["person", "batch", "template"]


@admin.register(OptOut)
class OptOutAdmin(ReadOnlyAdmin):
    list_display = ["person_id", "purpose", "since"]


@admin.register(QuietHours)
class QuietHoursAdmin(QuietHoursAdminBase):
    list_display = ["jurisdiction", "start", "end", "time_zone"]
    raw_id_fields = ["jurisdiction"]

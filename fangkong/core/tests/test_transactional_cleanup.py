"""Transactional tests clean up without breaking the audit guard or later tests."""

import pytest

from fangkong.core.models import AuditEntry, KeyGroup, Role


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_may_write_audit_rows(city, commander):
    from fangkong.core.services import jurisdiction_create

    jurisdiction_create(
        actor=commander, parent_id=city.xd_grid.pk, level="building", name_zh="临时楼"
    )
    assert AuditEntry.objects.count() == 1  # the flush after this test must still succeed


@pytest.mark.django_db(transaction=True)
def test_shipped_defaults_are_back_after_a_flush():
    from django.apps import apps

    assert Role.objects.filter(code="city_commander").exists()
    assert KeyGroup.objects.exists()
    assert apps.get_model("investigation", "Disease").objects.filter(code="covid19").exists()
    assert apps.get_model("notify", "MessageTemplate").objects.exists()

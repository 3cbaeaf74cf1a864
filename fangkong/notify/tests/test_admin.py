import pytest
from django.contrib.auth import get_user_model

from fangkong.conftest import client_for
from fangkong.core.models import AuditEntry
from fangkong.notify.models import MessageTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(db):
    user = get_user_model().objects.create_superuser("root", password="correct-horse-42")
    return client_for(user)


def _form(tpl, body):
    return {
        "description": tpl.description,
        "body": body,
        "transactional": "on" if tpl.transactional else "",
        "active": "on",
    }


def test_editing_a_template_in_the_admin_saves_a_new_audited_version(admin_client_):
    tpl = MessageTemplate.objects.get(code="registry_notice", language="en")
    url = f"/admin/notify/messagetemplate/{tpl.pk}/change/"
    r = admin_client_.post(url, _form(tpl, "Hello {person_name}. {text}"))
    assert r.status_code == 302, r.content.decode()[:2000]
    tpl.refresh_from_db()
    assert tpl.version == 2 and tpl.body == "Hello {person_name}. {text}"
    assert AuditEntry.objects.filter(action="notify.template_save").count() == 1


def test_the_admin_refuses_a_malformed_placeholder(admin_client_):
    tpl = MessageTemplate.objects.get(code="registry_notice", language="en")
    url = f"/admin/notify/messagetemplate/{tpl.pk}/change/"
    r = admin_client_.post(url, _form(tpl, "Hello {person_name"))
    assert r.status_code == 200  # the form again, with the error
    tpl.refresh_from_db()
    assert tpl.version == 1
    assert not AuditEntry.objects.exists()


def test_staff_without_admin_access_cannot_open_the_template_admin(city, xiaodian_officer):
    r = client_for(xiaodian_officer).get("/admin/notify/messagetemplate/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]

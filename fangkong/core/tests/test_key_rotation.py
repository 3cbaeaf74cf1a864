import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from fangkong.conftest import make_person
from fangkong.core import crypto
from fangkong.core.models import Person
from fangkong.core.selectors import person_find_by_document

pytestmark = pytest.mark.django_db


def test_rotation_re_encrypts_with_the_new_key_and_lookups_still_work(city, settings):
    p = make_person(city.xd_building, phone="13800138000")
    doc = crypto.decrypt(p.doc_number_encrypted)
    old_key = settings.FANGKONG_FIELD_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FANGKONG_FIELD_KEYS = [new_key, old_key]
    crypto.reset_key_cache()
    call_command("rotate_keys", verbosity=0)
    settings.FANGKONG_FIELD_KEYS = [new_key]  # the old key is retired
    crypto.reset_key_cache()
    row = Person.objects.get(pk=p.pk)
    assert crypto.decrypt(row.doc_number_encrypted) == doc
    assert crypto.decrypt(row.phone_encrypted) == "+8613800138000"
    assert person_find_by_document("prc_id", doc) == row


def test_rehash_follows_a_new_lookup_key(city, settings):
    p = make_person(city.xd_building)
    doc = crypto.decrypt(p.doc_number_encrypted)
    settings.FANGKONG_LOOKUP_KEY = "a-brand-new-lookup-key"
    crypto.reset_key_cache()
    assert person_find_by_document("prc_id", doc) is None
    call_command("rotate_keys", "--rehash", verbosity=0)
    found = person_find_by_document("prc_id", doc)
    assert found is not None and found.pk == p.pk

import pytest

from fangkong.core.errors import NotFound
from fangkong.core.models import AuditEntry
from fangkong.notify.models import OptOut
from fangkong.notify.services import optout_clear, optout_set
from fangkong.notify.tests.helpers import resident

pytestmark = pytest.mark.django_db


def test_an_opt_out_is_recorded_once_and_audited(city, grid_worker):
    person = resident(city.xd_building)
    first = optout_set(actor=grid_worker, person_id=person.pk, purpose="screening_reminder")
    again = optout_set(actor=grid_worker, person_id=person.pk, purpose="screening_reminder")
    assert first.pk == again.pk
    entry = AuditEntry.objects.get(action="notify.optout_set")
    assert entry.person_id == person.pk and entry.actor_username == "gridworker"


def test_an_opt_out_can_be_withdrawn(city, grid_worker):
    person = resident(city.xd_building)
    optout_set(actor=grid_worker, person_id=person.pk)
    optout_clear(actor=grid_worker, person_id=person.pk)
    assert not OptOut.objects.exists()
    assert AuditEntry.objects.filter(action="notify.optout_clear").count() == 1
    with pytest.raises(NotFound):
        optout_clear(actor=grid_worker, person_id=person.pk)


def test_a_person_of_another_district_cannot_be_opted_out(city, yingze_officer):
    person = resident(city.xd_building)
    with pytest.raises(NotFound):
        optout_set(actor=yingze_officer, person_id=person.pk)
    assert not OptOut.objects.exists()

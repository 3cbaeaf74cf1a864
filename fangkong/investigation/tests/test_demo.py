from django.utils import timezone

from fangkong.core.synth import synthetic_city_build
from fangkong.investigation import demo
from fangkong.investigation.models import Case, Cluster, Contact, ExposureMatch, FollowUp


def test_the_demo_outbreak_is_built_through_the_services_once(db):
    synthetic_city_build(residents=6000, seed=7, districts=1)
    first = demo.seed()
    cases = Case.objects.filter(external_ref__startswith=demo.MARKER)
    assert cases.count() >= 20
    days = {c.report_date for c in cases if c.report_date}
    assert len(days) > 1
    assert (timezone.localdate() - min(days)).days >= 12  # about two weeks
    assert cases.filter(classification="suspected").exists()
    assert cases.filter(released_at__isnull=False).exists()
    assert cases.filter(source_contact__isnull=False).count() >= 10  # chains
    assert Cluster.objects.filter(named=True, name=demo.CLUSTER_NAME).exists()
    assert Cluster.objects.count() >= 2
    confirmed = ExposureMatch.objects.filter(status="confirmed")
    assert Contact.objects.filter(match__in=confirmed).exists()  # found by matching
    assert ExposureMatch.objects.filter(status="pending").exists()  # work waiting
    assert ExposureMatch.objects.filter(status="dismissed").exists()
    assert Contact.objects.filter(category="secondary").exists()
    assert FollowUp.objects.filter(date=timezone.localdate(), status="not_attempted").exists()
    assert "cases over two weeks" in first
    again = demo.seed()
    assert "already there" in again
    assert Case.objects.filter(external_ref__startswith=demo.MARKER).count() == cases.count()

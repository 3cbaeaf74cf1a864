from fangkong.core.synth import synthetic_city_build
from fangkong.zones import demo
from fangkong.zones.models import ServiceRequest, Zone


def test_the_demo_seeds_zones_once(db):
    synthetic_city_build(residents=800, seed=7, districts=1)
    first = demo.seed()
    assert Zone.objects.filter(state="active").count() == 3
    assert Zone.objects.filter(state="proposed").count() == 1
    assert ServiceRequest.objects.count() == 6
    assert ServiceRequest.objects.filter(status="open").count() >= 4
    assert "zones in force" in first
    assert "already" in demo.seed()

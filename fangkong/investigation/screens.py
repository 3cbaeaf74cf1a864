"""The investigation pages the demo investigator opens (``fangkong screenshots``)."""

from __future__ import annotations

from fangkong.core.pagecheck import Screen
from fangkong.investigation.models import BreachInquiry, Case, Cluster, Contact


def screens() -> list[Screen]:
    paths = ["/investigation/", "/investigation/cases/"]
    case = Case.objects.order_by("pk").first()
    if case is not None:
        paths += [f"/investigation/cases/{case.pk}/", f"/investigation/cases/{case.pk}/chain/"]
    paths += ["/investigation/clusters/"]
    cluster = Cluster.objects.order_by("pk").first()
    if cluster is not None:
        paths.append(f"/investigation/clusters/{cluster.pk}/")
    paths += ["/investigation/timeline/", "/investigation/followups/", "/investigation/rules/"]
    paths.append("/investigation/breaches/")
    inquiry = BreachInquiry.objects.order_by("pk").first()
    if inquiry is not None:
        paths.append(f"/investigation/breaches/{inquiry.pk}/")
    # A confirmed contact's person page: the timeline of their status and its sources.
    contact = Contact.objects.order_by("pk").values_list("person_id", flat=True).first()
    if contact is not None:
        paths.append(f"/people/{contact}/")
    return [Screen("investigation", "investigator", paths)]

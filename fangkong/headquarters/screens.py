"""The headquarters pages the demo logins open (``fangkong screenshots``, the browser walk)."""

from __future__ import annotations

from fangkong.core.pagecheck import Screen
from fangkong.headquarters.models import Accountability, DailyReport, InspectionPlan, TaskForce


def screens() -> list[Screen]:
    commander = ["/hq/", "/hq/dashboard/", "/hq/dashboard/retests/", "/hq/tasks/"]
    inspector = ["/hq/", "/hq/inspections/"]
    plan = InspectionPlan.objects.order_by("pk").values_list("pk", flat=True).first()
    if plan is not None:
        commander.append(f"/hq/inspections/{plan}/")
        inspector += [f"/hq/inspections/{plan}/", f"/hq/inspections/{plan}/visit/"]
    commander += ["/hq/accountability/", "/hq/duty/", "/hq/taskforces/", "/hq/care/"]
    commander.append("/hq/reports/")
    report = DailyReport.objects.order_by("pk").values_list("pk", flat=True).first()
    if report is not None:
        commander.append(f"/hq/reports/{report}/")
    record = Accountability.objects.order_by("pk").values_list("pk", flat=True).first()
    if record is not None:
        commander.append(f"/hq/accountability/{record}/")
    inspector.append("/hq/accountability/new/")
    district = ["/hq/", "/hq/dashboard/", "/hq/duty/", "/hq/inspections/"]
    tf = TaskForce.objects.order_by("pk").values_list("pk", flat=True).first()
    if tf is not None:
        district.append(f"/hq/taskforces/{tf}/")
    return [
        Screen("headquarters", "city_commander", commander),
        Screen("headquarters", "inspector", inspector),
        Screen("headquarters", "district_officer", district),
    ]

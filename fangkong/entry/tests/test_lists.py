"""Risk-area lists: imported whole or refused with row, column and message;
versioned per region; an expiring list warns."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from fangkong.core.errors import Conflict, PermissionDenied, ValidationFailed
from fangkong.core.tabular import ImportRejected
from fangkong.entry import selectors, services
from fangkong.entry.models import RiskArea, RiskList
from fangkong.entry.tests import kit


def _meta(**kw: Any) -> services.ListMeta:
    values: dict[str, Any] = {
        "region_code": "310000",
        "region_name": "上海市",
        "source": "上海发布",
        "published_at": timezone.now(),
        "effective_from": timezone.localdate(),
    }
    values.update(kw)
    return services.ListMeta(**values)


def test_a_file_with_bad_rows_is_refused_whole_with_row_column_and_message(commander):
    csv = (
        "admin_code,district,level\n310104,徐汇区,high\n31x,某区,high\n"
        "999999,某区,medium\n,,low\n310101,黄浦区,extreme\n"
    )
    with pytest.raises(ImportRejected) as exc:
        services.risk_list_import(actor=commander, meta=_meta(), data=csv.encode())
    rows = {(e.row, e.column) for e in exc.value.errors}
    assert rows == {(3, "admin_code"), (4, "admin_code"), (5, "place"), (6, "level")}
    assert not RiskList.objects.exists() and not RiskArea.objects.exists()


def test_a_json_list_is_imported_as_the_regions_next_version(commander):
    kit.published_list(commander)
    data = json.dumps({"areas": [{"admin_code": "310104", "level": "中风险"}]}).encode()
    second = services.risk_list_import(
        actor=commander, meta=_meta(), data=data, filename="list.json"
    )
    assert (second.version, second.state, second.areas.get().level) == (2, "draft", "medium")


def test_bad_list_details_are_refused(commander):
    meta = _meta(
        region_code="99",
        source="",
        published_at=timezone.now() + dt.timedelta(days=1),
        effective_to=timezone.localdate() - dt.timedelta(days=1),
    )
    with pytest.raises(ValidationFailed) as exc:
        services.risk_list_import(actor=commander, meta=meta, data=b"admin_code,level\n31,high\n")
    assert set(exc.value.fields) == {"region_code", "source", "published_at", "effective_to"}


def test_only_a_draft_is_put_in_force_once(commander):
    risk_list = kit.published_list(commander)
    with pytest.raises(Conflict):
        services.risk_list_publish(actor=commander, list_id=risk_list.pk)


def test_a_list_about_to_expire_warns(commander):
    kit.published_list(commander, effective_to=timezone.localdate() + dt.timedelta(days=1))
    assert selectors.lists_expiring(commander).count() == 1


def test_a_checkpoint_officer_cannot_import_lists(officer):
    with pytest.raises(PermissionDenied):
        services.risk_list_import(actor=officer, meta=_meta(), data=b"admin_code,level\n31,high\n")

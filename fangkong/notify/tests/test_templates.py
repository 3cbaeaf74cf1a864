import pytest

from fangkong.core.errors import PermissionDenied, ValidationFailed
from fangkong.core.models import AuditEntry
from fangkong.notify.models import MessageTemplate
from fangkong.notify.services import template_save
from fangkong.notify.templating import person_renderer, placeholders_of, render


def test_placeholders_are_found_in_order_of_first_use():
    assert placeholders_of("{a} and {b}, {a} again, {{literal}}") == ["a", "b"]


def test_literal_braces_are_written_doubled():
    assert render("{{x}} = {x}", {"x": 1}) == "{x} = 1"


@pytest.mark.parametrize("body", ["{", "price: 5}", "{person.__class__}", "{0}", "{a b}"])
def test_it_refuses_a_malformed_placeholder(body):
    with pytest.raises(ValidationFailed) as exc:
        placeholders_of(body)
    assert "body" in exc.value.fields


def test_rendering_refuses_a_missing_value():
    with pytest.raises(ValidationFailed) as exc:
        render("Hello {name}", {})
    assert "name" in exc.value.fields["context"]


@pytest.mark.django_db
def test_default_templates_ship_in_both_languages():
    rows = MessageTemplate.objects.values_list("code", "language", "placeholders")
    assert {(code, lang, tuple(names)) for code, lang, names in rows} >= {
        ("registry_notice", "zh-hans", ("person_name", "text")),
        ("registry_notice", "en", ("person_name", "text")),
        ("one_time_code", "zh-hans", ("code", "minutes")),
        ("one_time_code", "en", ("code", "minutes")),
    }


@pytest.mark.django_db
def test_saving_a_template_bumps_its_version_and_audits_the_old_text(commander):
    tpl = template_save(
        actor=commander, code="registry_notice", language="en", body="Hi {person_name}: {text}"
    )
    assert tpl.version == 2 and tpl.placeholders == ["person_name", "text"]
    entry = AuditEntry.objects.get(action="notify.template_save")
    assert entry.changes["body"] == [
        "[Fangkong] Dear {person_name}, {text}",
        "Hi {person_name}: {text}",
    ]
    assert entry.changes["version"] == [1, 2]


@pytest.mark.django_db
def test_later_modules_can_add_templates(commander):
    tpl = template_save(
        actor=commander,
        code="retest_due",
        language="zh-hans",
        body="【防控】{person_name}，请于{date}到{site}复检。",
    )
    assert tpl.version == 1 and tpl.placeholders == ["person_name", "date", "site"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"body": "Dear {name"}, "body"),
        ({"body": "  "}, "body"),
        ({"body": "x" * 1001}, "body"),
        ({"language": "fr"}, "language"),
        ({"code": "Bad Code"}, "code"),
    ],
)
def test_a_bad_template_is_refused_and_nothing_changes(commander, kwargs, field):
    args = {"code": "registry_notice", "language": "en", "body": "ok {text}", **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        template_save(actor=commander, **args)
    assert field in exc.value.fields
    assert MessageTemplate.objects.get(code="registry_notice", language="en").version == 1
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_district_officer_may_not_edit_templates(xiaodian_officer):
    with pytest.raises(PermissionDenied):
        template_save(
            actor=xiaodian_officer, code="registry_notice", language="en", body="x {text}"
        )


@pytest.mark.parametrize(
    "body",
    ["{person_name}，{text}", "{{编号}} {text}", "您好 {person_name}{person_name}", "无占位符"],
)
def test_a_batch_fills_each_name_as_render_would(body: str) -> None:
    context = {"text": "明天8点核酸"}
    fill = person_renderer(body, context)
    for name in ("王五", "{x}", ""):
        assert fill(name) == render(body, {**context, "person_name": name})


def test_a_batch_missing_a_value_fails_as_render_would() -> None:
    with pytest.raises(ValidationFailed) as exc:
        person_renderer("{person_name}: {text}", {})
    assert "context" in exc.value.fields

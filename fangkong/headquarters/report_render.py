"""The daily report's PDF and XLSX, rendered from an archived report's content in
one language (the HTML page is ``templates/headquarters/report.html``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.pdf import PdfWriter
from fangkong.core.sheets import xlsx_workbook


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def report_pdf(body: dict[str, Any]) -> bytes:
    doc = PdfWriter(title=body["title"], subject=body["date"])
    doc.footer(f"{body['title']} · {body['date']}")
    doc.heading(body["title"])
    doc.paragraph(f"{body['date']} · {body['period']}", size=9)
    for section in body["sections"]:
        doc.heading(section["heading"], size=13, centred=False)
        if section["kind"] == "figures":
            doc.fields([(str(k), _text(v)) for k, v in section["rows"]], size=10)
        elif section["kind"] == "chart":
            doc.bar_chart(section["labels"], [(s["name"], s["data"]) for s in section["series"]])
        else:
            rows = section["rows"]
            if rows:
                doc.table(section["header"], ([_text(v) for v in r] for r in rows))
            else:
                doc.paragraph(_("None."), size=10)
            if section.get("note"):
                doc.paragraph(section["note"], size=8)
    doc.signature(body["area"], body["made_at"], size=10)
    return doc.finish()


def report_xlsx(body: dict[str, Any]) -> bytes:
    """One sheet per section (the chart's sheet carries a bar chart)."""
    sheets: list[tuple[str, list[Any], list[list[Any]]]] = []
    charts: list[tuple[int, str]] = []
    used: set[str] = set()

    def title_of(heading: str) -> str:
        base = heading.replace(":", " ").replace("/", " ")[:28] or "-"
        name, n = base, 2
        while name in used:
            name, n = f"{base[:26]} {n}", n + 1
        used.add(name)
        return name

    for section in body["sections"]:
        if section["kind"] == "figures":
            sheets.append(
                (
                    title_of(section["heading"]),
                    [_("Item"), _("Count")],
                    section["rows"],
                )
            )
        elif section["kind"] == "chart":
            header = [_("Day"), *[s["name"] for s in section["series"]]]
            rows = [
                [label, *[s["data"][i] for s in section["series"]]]
                for i, label in enumerate(section["labels"])
            ]
            charts.append((len(sheets), section["heading"]))
            sheets.append((title_of(section["heading"]), header, rows))
        else:
            sheets.append((title_of(section["heading"]), section["header"], section["rows"]))
    return xlsx_workbook(sheets, charts=charts)

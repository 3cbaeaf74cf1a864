"""The shared PDF writer: Chinese and English text, wrapping, pages, tables."""

import io

import pypdf

from fangkong.core.pdf import PdfWriter, text_width, wrap


def _text(data: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_chinese_and_english_text_can_be_read_back():
    doc = PdfWriter(title="隔离通知书")
    doc.heading("集中隔离医学观察通知书")
    doc.fields([("姓名", "张三"), ("Room", "301")])
    doc.paragraph(
        "根据疫情防控工作需要，现通知您接受集中隔离医学观察。Emergency care is never held back."
    )
    doc.signature("太原市疫情防控指挥部", "2022年10月6日")
    pages = _text(doc.finish())
    assert len(pages) == 1
    for part in ("集中隔离医学观察通知书", "张三", "301", "Emergency care", "太原市疫情防控指挥部"):
        assert part in pages[0]


def test_lines_never_run_past_the_width_and_keep_words_whole():
    text = "集中隔离" * 40 + " an English sentence with words that stay whole " * 3
    lines = wrap(text, 200, 11)
    assert all(text_width(line, 11) <= 200 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert not any(
        line.startswith(("，", "。")) for line in wrap("测" * 17 + "，" + "试" * 30, 200, 11)
    )


def test_a_bulk_print_puts_each_document_on_its_own_page_and_is_reproducible():
    def build() -> bytes:
        doc = PdfWriter(title="orders")
        for i in range(3):
            if i:
                doc.new_page()
            doc.heading(f"通知书 {i}")
        return doc.finish()

    first = build()
    assert [t.strip() for t in _text(first)] == ["通知书 0", "通知书 1", "通知书 2"]
    assert build() == first


def test_a_long_table_repeats_its_header_on_the_next_page():
    doc = PdfWriter(title="table")
    doc.table(["区县", "天数"], [[f"第{i}区", str(i)] for i in range(80)], widths=[3, 1])
    pages = _text(doc.finish())
    assert len(pages) >= 2
    assert all("区县" in p for p in pages)
    assert "第79区" in pages[-1]

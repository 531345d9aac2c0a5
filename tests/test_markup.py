"""ladder.core.markup and the tables built on it: any text from a host, a repository or a config stays text."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.assess import views
from ladder.core.markup import escape, styler
from ladder.engine import record, report
from ladder.rungs import steps

pytestmark = pytest.mark.unit

HOSTILE = ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>', "' onmouseover='alert(1)", "&lt;b&gt;"]
# Text as a host or a repository may hold it: anything printable (no surrogates or control characters).
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


class Parsed(HTMLParser):
    """The tags a page opens and the text it shows (character references resolved)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.text: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def shows_as_text(page: str, value: str, tags: set[str]) -> None:
    parsed = Parsed(page)
    assert parsed.tags <= tags, parsed.tags - tags
    assert parsed.handlers == []
    assert value in "".join(parsed.text)


TABLE = {"style", "table", "caption", "thead", "tbody", "tr", "th", "td"}


@given(TEXT)
@settings(max_examples=60, deadline=None)
def test_a_styled_table_escapes_every_cell_label_and_caption(value):
    frame = pd.DataFrame({value: [value, [value], 1.5]}, index=[value, "b", "c"])
    shows_as_text(styler(frame, caption=value).to_html(), value, TABLE)


@given(TEXT)
@settings(max_examples=60, deadline=None)
def test_escape_leaves_no_markup_in_an_element_or_a_quoted_attribute(value):
    shows_as_text(f"<p title='{escape(value)}'>{escape(value)}</p>", value, {"p"})
    assert escape(value).count("'") == escape(value).count('"') == escape(value).count("<") == 0


@pytest.mark.parametrize("value", HOSTILE)
def test_the_matrix_and_a_step_table_escape_host_step_and_change_text(value):
    shows_as_text(record.matrix_html({value: {value: "ok"}}), value, TABLE)
    rows = [{"host": value, "step": "s", "operation": value, "target": value, "outcome": "planned",
             "reason": value, "commands": [value]}]  # fmt: skip
    shows_as_text(record.step_table(record.changes_frame(rows)), value, TABLE)


@pytest.mark.parametrize("value", HOSTILE)
def test_the_report_header_escapes_every_value(value):
    summary = {"title": value, "runbook": value, "run_id": value, "status": value, "params": {value: value},
               "matrix": {value: {value: "failed"}}, "steps": [value], "figures": {value: value}, "notices": [value],
               "error": {"step": value, "ename": value, "evalue": value, "hosts": {value: "failed"}}}  # fmt: skip
    page = report.header(summary)
    shows_as_text(page, value, TABLE | {"div", "h1", "h2", "p", "span", "b", "ul", "li", "code", "label"})


@pytest.mark.parametrize("value", HOSTILE)
def test_the_rungs_and_assessment_tables_escape_every_value(value):
    frame = pd.DataFrame({"what": [value], "score": [5.0]})
    shows_as_text(steps.left_table(frame), value, TABLE)
    shows_as_text(steps.pairs({value: value}), value, TABLE)
    shows_as_text(views.html_table({value: value}), value, TABLE)
    shows_as_text(views.styled(frame, ["score"]).to_html(), value, TABLE)

"""The HTML report of a run: a header for the reader, then the executed notebook without its code."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..core.private import write_private
from .record import COLOURS, matrix_html
from .redact import redact_text

# Cells tagged so stay in the executed notebook but not in the report: a record its own header already shows.
HIDDEN = "hide-in-report"
STATUS_COLOURS = {"ok": COLOURS["ok"], "failed": COLOURS["failed"], "running": COLOURS["planned"]}

STYLE = """
<style>
.ladder-header { font-family: system-ui, sans-serif; margin: 1em 0 2em; padding: 1em 1.5em;
  border: 1px solid #ccc; border-radius: 6px; }
.ladder-header h1 { margin-top: 0; }
.ladder-header table { border-collapse: collapse; margin: 0.5em 0 1em; }
.ladder-header th, .ladder-header td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
.ladder-header td { overflow-wrap: anywhere; }
.ladder-status { display: inline-block; padding: 0.1em 0.6em; border-radius: 4px; font-weight: bold; }
.ladder-notice { background: #fff3cd; border-left: 4px solid #e0a800; padding: 0.5em 1em; margin: 0.5em 0 1em; }
.ladder-error { white-space: pre-wrap; background: #fdf0f0; border-left: 4px solid #c33; padding: 0.5em 1em; }
.ladder-toggle { cursor: pointer; border: 1px solid #999; border-radius: 4px; padding: 0.2em 0.6em; background: #f6f6f6; }
#ladder-show-code { position: absolute; opacity: 0; pointer-events: none; }
#ladder-show-code:focus-visible + .ladder-header .ladder-toggle { outline: 2px solid #1a73e8; }
#ladder-show-code:not(:checked) ~ main .jp-CodeCell .jp-Cell-inputWrapper { display: none; }
</style>
"""
# Code is shown or hidden by a checkbox and CSS alone: the report runs no script at all (see CSP).
SWITCH = "<input type='checkbox' id='ladder-show-code' aria-label='Show code'>"
TOGGLE = "<label for='ladder-show-code' class='ladder-toggle'>Show / hide code</label>"
# The report loads nothing and runs nothing: styles and data: images are all it needs.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
)
# The lab template without what it would fetch or run: require.js, MathJax, mermaid, the widget manager,
# javascript outputs and the inline script of a widget view (its JSON stays, as data).
TEMPLATE = (
    "{%- extends 'index.html.j2' -%}\n"
    "{%- block html_head -%}\n"
    f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
    "<meta name='referrer' content='no-referrer'>\n"
    "{{ super() }}\n"
    "{%- endblock html_head -%}\n"
    "{%- block html_head_js -%}{%- endblock html_head_js -%}\n"
    "{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}\n"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    "{%- block data_javascript -%}{%- endblock data_javascript -%}\n"
    "{%- block data_widget_view scoped -%}\n"
    "{% set datatype = (output.data | filter_data_type)[0] %}\n"
    "<div class='jupyter-widgets jp-OutputArea-output {{ extra_class }}'>"
    "<script type='{{ datatype }}'>{{ output.data[datatype] | json_dumps | escape_html_script }}</script></div>\n"
    "{%- endblock data_widget_view -%}\n"
)
TEMPLATE_NAME = "ladder-report.html.j2"


def _rows(mapping: Mapping[str, Any]) -> str:
    return "".join(
        f"<tr><th>{html.escape(str(k))}</th><td><code>{html.escape(str(v))}</code></td></tr>"
        for k, v in mapping.items()
    )


def duration_text(seconds: Any) -> str:
    """Seconds as "1 min 23.2 s" or "3.1 s"; "unknown" when not a number."""
    if not isinstance(seconds, (int, float)):
        return "unknown"
    minutes, secs = divmod(float(seconds), 60)
    return f"{int(minutes)} min {secs:.1f} s" if minutes else f"{secs:.1f} s"


def header(summary: Mapping[str, Any]) -> str:
    """The report's header: runbook, parameters, status, duration, error and the host x step matrix."""
    status = str(summary.get("status", "unknown"))
    colour = STATUS_COLOURS.get(status, "#eee")
    title = summary.get("title") or summary.get("runbook") or "Runbook"
    facts = {
        "runbook": summary.get("runbook", ""),
        "run": summary.get("run_id", ""),
        "started": summary.get("started", ""),
        "duration": duration_text(summary.get("duration_s")),
        "changes": summary.get("changes", 0),
    }
    parts = [
        "<div class='ladder-header'>",
        f"<h1>{html.escape(str(title))}</h1>",
        f"<p>Status: <span class='ladder-status' style='background:{colour}'>{html.escape(status)}</span></p>",
        "<table>"
        + "".join(f"<tr><th>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items())
        + "</table>",
    ]
    notices = summary.get("notices") or []
    if notices:
        parts.append(
            "<div class='ladder-notice'><b>Read this first</b><ul>"
            + "".join(f"<li>{html.escape(str(n))}</li>" for n in notices)
            + "</ul></div>"
        )
    error = summary.get("error")
    if error:
        where = error.get("step") or f"cell {error.get('cell')}"
        hosts = ", ".join(f"{h} ({o})" for h, o in (error.get("hosts") or {}).items())
        parts.append(
            "<h2>Failure</h2><div class='ladder-error'>"
            f"Step: {html.escape(str(where))}\n"
            + (f"Hosts: {html.escape(hosts)}\n" if hosts else "")
            + f"{html.escape(str(error.get('ename', 'Error')))}: {html.escape(str(error.get('evalue', '')))}</div>"
        )
    parts.append("<h2>Hosts and steps</h2>")
    parts.append(matrix_html(summary.get("matrix") or {}, summary.get("steps") or None))
    params = summary.get("params") or {}
    parts.append("<h2>Parameters</h2>" + (f"<table>{_rows(params)}</table>" if params else "<p>None.</p>"))
    figures = summary.get("figures") or {}
    if figures:
        parts.append(f"<h2>Key figures</h2><table>{_rows(figures)}</table>")
    parts.append(TOGGLE + "</div>")
    return "\n".join(parts)


def exporter() -> Any:
    """An nbconvert HTMLExporter: lab template, self-contained under CSP, no prompts, injected and HIDDEN cells removed."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.remove_cell_tags = {"injected-parameters", HIDDEN}
    c.TagRemovePreprocessor.enabled = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.embed_images = True
    html = HTMLExporter(
        config=c,
        template_name="lab",
        template_file=TEMPLATE_NAME,
        extra_loaders=[DictLoader({TEMPLATE_NAME: TEMPLATE})],
    )
    html.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    return html


def warm_up() -> None:
    """Import and load what rendering needs, so a runner can do it while the kernel works."""
    import nbformat

    from .record import matrix_html

    matrix_html({"host": {"step": "ok"}})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# warm up"), nbformat.v4.new_code_cell("x = 1")]
    exporter().from_notebook_node(nb)


def render(
    nb: Any,
    summary: Mapping[str, Any],
    head: Callable[[Mapping[str, Any]], str | None] | None = None,
    secrets: Iterable[str] | None = None,
) -> str:
    """A standalone HTML page: header, then the notebook with code hidden and parameters injected cell removed.

    head, when given, makes the inner HTML of the header box from the summary (the show-code
    button is added below it); when it returns None the standard header is used. secrets are
    redacted from the page (default: every secret known to this process, see redact.secret_values).
    """
    title = str(summary.get("title") or summary.get("runbook") or "Runbook report")
    body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    match = re.search(r"<body[^>]*>", body)
    custom = head(summary) if head is not None else None
    top = header(summary) if custom is None else f"<div class='ladder-header'>\n{custom}\n{TOGGLE}</div>"
    insert = STYLE + SWITCH + top
    page = body[: match.end()] + insert + body[match.end() :] if match else insert + body
    return redact_text(page, secrets)


def write(
    nb: Any,
    summary: Mapping[str, Any],
    path: str | Path,
    head: Callable[[Mapping[str, Any]], str | None] | None = None,
    secrets: Iterable[str] | None = None,
) -> Path:
    """Render the report (with a custom header when head is given, without secrets) and write it to path."""
    return write_private(path, render(nb, summary, head, secrets))

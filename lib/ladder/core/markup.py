"""HTML made from data: every value from a host, a repository or a config is escaped, in every page Ladder writes."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Cell values a Styler formats itself (numbers keep its precision); anything else is shown as escaped text.
_PLAIN = (str, int, float, bool, type(None))


def escape(value: Any) -> str:
    """Any value as text safe inside an HTML element or a quoted attribute."""
    return html.escape(str(value), quote=True)


def _text(value: Any) -> Any:
    return value if isinstance(value, _PLAIN) or hasattr(value, "dtype") else str(value)


def styler(frame: pd.DataFrame, caption: str | None = None) -> Any:
    """frame.style with every cell, row label and column label HTML-escaped (a Styler escapes none by default).

    Cells that are neither text nor numbers (lists, paths) become text first: a Styler escapes only strings.
    """
    styled = frame.map(_text).style.format(escape="html")
    styled = styled.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    return styled.set_caption(escape(caption)) if caption is not None else styled

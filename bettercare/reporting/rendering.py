"""The one Jinja2 environment every HTML report renders with.

Owns the template loader (``bettercare/reporting/templates/``), autoescaping and the
filters the templates share (``money``, ``num`` and the domain formatter's, see
:data:`FILTERS`) and embedding PNGs as data URIs. It does
not own any page's content: each report module chooses its template and context.
"""

from __future__ import annotations

import base64
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from bettercare.domain.dates import format_uk_date
from bettercare.domain.labels import (
    code_label,
    format_count,
    format_metric,
    format_metric_value,
    format_number,
    format_percent,
    format_period,
    in_words,
    path_in_words,
    unit_label,
)
from bettercare.domain.money import format_gbp


def _num(x: float | None) -> str:
    """A number as a board reads it: thousands separated, two decimals only if needed."""
    return "—" if x is None else f"{x:,.{2 if x % 1 else 0}f}"


#: The domain's one formatter (:mod:`bettercare.domain.labels`) as filters, shared with
#: the web app's templates (:mod:`bettercare.app.templating`): ``metric`` (a value with
#: its unit), ``metric_value`` (a plan's stated value), ``count``, ``number``, ``pct``,
#: ``period`` (``2016-17``, ``Q3 2016-17``, ``March 2017``), ``uk_date``, ``code`` and
#: ``words`` (a message with its codes in words), ``where`` (a field path in words).
FILTERS = {
    "money": format_gbp,
    "metric": format_metric,
    "metric_value": format_metric_value,
    "count": format_count,
    "number": format_number,
    "pct": format_percent,
    "period": format_period,
    "uk_date": format_uk_date,
    "code": code_label,
    "unit": unit_label,
    "words": in_words,
    "where": path_in_words,
}


@cache
def environment() -> Environment:
    """The shared environment (built once): HTML autoescaped, ``money`` and ``num`` filters."""
    env = Environment(
        loader=PackageLoader("bettercare.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.filters["num"] = _num
    return env


def data_uri(png: bytes) -> str:
    """A PNG embedded in the page, so each report file stands alone."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

"""One Jinja ``money`` filter for the web pages and the reports."""

from __future__ import annotations

from bettercare.domain.money import format_gbp


def test_the_pages_and_the_reports_share_the_money_filter() -> None:
    import bettercare.app.main  # noqa: F401  (every page module registers its filters)
    from bettercare.app.templating import TEMPLATES
    from bettercare.reporting.rendering import environment

    assert TEMPLATES.env.filters["money"] is format_gbp
    assert environment().filters["money"] is format_gbp

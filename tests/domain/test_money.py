"""The one money formatter (worked by hand)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bettercare.domain.money import format_gbp


@pytest.mark.parametrize(
    ("amount", "pence", "shown"),
    [
        (Decimal(153_470), False, "£153,470"),  # Rutland's P4P sum: 103 x £1,490
        (Decimal("38367.50"), True, "£38,367.50"),  # £153,470 x 3/12
        (Decimal("38367.50"), False, "£38,368"),  # .50 -> even (8)
        (Decimal("2.5"), False, "£2"),  # halves to even
        (1_490, False, "£1,490"),
        (0.1, True, "£0.10"),
        (None, False, "—"),
        (None, True, "—"),
    ],
)
def test_format_gbp(amount, pence, shown):
    assert format_gbp(amount, pence=pence) == shown


def test_reports_and_messages_use_it():
    from bettercare.reporting.rendering import environment

    assert environment().filters["money"] is format_gbp

"""Numbers and codes as people read them on the plan pages: words, units, one notation."""

from __future__ import annotations

import re

from shown_codes import raw_codes, visible_text

from bettercare.app.plans import plan_of
from bettercare.data.tables import PlanRecord

MARLBURY_PLAN = "marlbury_2025"


def _plan(app, plan_id: str):
    with app.state.sessions() as db:
        return plan_of(db.get(PlanRecord, plan_id))


def test_plan_overview_shows_codes_as_words(app, client, login) -> None:
    login("admin")
    page = client.get(f"/plans/{MARLBURY_PLAN}").text
    text = visible_text(page)
    plan = _plan(app, MARLBURY_PLAN)
    partner_ids = {p.id for p in plan.partners if "_" in p.id}
    shown = {
        c: text[max(0, text.find(c) - 60) : text.find(c) + 30] for c in raw_codes(text, partner_ids)
    }
    assert shown == {}
    # the funding streams by their names, the state in words, the years as BCF writes them
    assert "Local Authority Better Care Grant" in text
    assert "Spend 2025-26" in text and not re.search(r"Spend 2025/26", text)
    # every plan metric says its unit
    assert "per 100,000 population aged 65+" in text

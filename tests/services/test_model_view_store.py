"""The model page fitted to a store: an older store falls back to the plan, saying why."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
from metrics_fixtures import A, store_file

from bettercare.services.board_pack import model_view


def test_a_store_whose_scheme_activity_predates_hwb_code_falls_back(
    tmp_path: Path, make_plan: Any
) -> None:
    def change(d: dict) -> None:
        d["hwb"]["ons_code"] = A
        d["financial_years"] = ["2016/17"]
        d["schemes"][1]["reference"] = "ICRS"
        d["schemes"][1]["admissions_avoided"] = {"2016/17": 1200}

    plan = make_plan(change)
    store = Path(store_file(tmp_path / "s.duckdb"))
    con = duckdb.connect(str(store))
    con.execute("ALTER TABLE scheme_activity DROP COLUMN hwb_code")
    con.close()
    record = SimpleNamespace(id=1, version=1)
    model, error = model_view(OrderedDict(), record, plan, store, "observed")  # type: ignore[arg-type]
    assert model is not None  # modelled from the plan's stated ranges
    assert error is not None
    assert "scheme_activity has no hwb_code column" in error
    assert error.endswith("modelled from the plan's stated ranges.")

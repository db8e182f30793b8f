"""Plans in the app's database, re-exported: storage lives in :mod:`bettercare.data.plan_store`."""

from __future__ import annotations

from bettercare.data.plan_store import (
    as_plain,
    body_of,
    ensure_hwb,
    export_yaml,
    framework_id,
    get_plan,
    history,
    hwb_code,
    import_plan,
    import_plan_file,
    list_plans,
    plan_of,
    plan_title,
    record_transition,
    save_plan,
)

__all__ = [
    "as_plain",
    "body_of",
    "ensure_hwb",
    "export_yaml",
    "framework_id",
    "get_plan",
    "history",
    "hwb_code",
    "import_plan",
    "import_plan_file",
    "list_plans",
    "plan_of",
    "plan_title",
    "record_transition",
    "save_plan",
]

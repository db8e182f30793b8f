"""Ingest a feed directory and print a digest of every store table: compare two versions.

    PYTHONPATH=. python benchmarks/store_digest.py DIR > after.txt
    git worktree add /tmp/before HEAD~1 && PYTHONPATH=/tmp/before \\
        python benchmarks/store_digest.py DIR > before.txt && diff before.txt after.txt

For a change that must not change what an ingest writes (a faster rule, a cheaper scan):
the run's outcome and per-file counts, the file-level findings, and per store table its
row count and a SHA-256 of its rows sorted (run ids, timestamps and timings left out),
the quarantine's rules and the report's lines. Feeds with errors in them exercise the
row rules: the synthetic feeds written as CSV with values broken on purpose do.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import duckdb

from bettercare.data.ingest import REPORT_NAME, ingest

KEY = b"benchmark-key-" + b"0" * 50
VOLATILE = ("run_id", "loaded_at", "decided_at", "created_at")


def digest(directory: Path, memory_limit: str) -> list[str]:
    """The lines to compare (see the module docstring)."""
    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store" / "store.duckdb"
        res = ingest(directory, store, KEY, memory_limit=memory_limit)
        out.append(f"outcome {res.outcome}")
        for f in res.feeds:
            out.append(
                f"feed {f.feed} {f.status} read {f.rows_read} loaded {f.rows_loaded} "
                f"quarantined {f.rows_quarantined} opted out {f.rows_opted_out} "
                f"warnings {f.warnings}"
            )
        out += sorted(f"file issue {i}" for i in res.file_issues)
        con = duckdb.connect(str(store), read_only=True)
        try:
            tables = [
                t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            ]
            for table in sorted(tables):
                cols = [
                    c
                    for (c,) in con.execute(
                        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                        "ORDER BY column_index",
                        [table],
                    ).fetchall()
                    if c not in VOLATILE
                ]
                sel, where = ", ".join(f'"{c}"' for c in cols), ""
                if table == "linkage_report":  # timings vary; estimates to 6 places
                    sel, where = "metric, round(value, 6)", " WHERE metric NOT LIKE '%seconds%'"
                rows = con.execute(f"SELECT {sel} FROM {table}{where} ORDER BY ALL").fetchall()
                h = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
                out.append(f"table {table} {len(rows)} rows {h}")
        finally:
            con.close()
        report = sorted((store.parent / REPORT_NAME).read_text().splitlines())
        out.append(
            f"report {len(report)} lines {hashlib.sha256(repr(report).encode()).hexdigest()[:16]}"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("directory", type=Path)
    ap.add_argument("--memory-limit", default="256MB")
    args = ap.parse_args()
    print("\n".join(digest(args.directory, args.memory_limit)))


if __name__ == "__main__":
    main()

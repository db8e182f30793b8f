"""Peer groups as data: who a board is compared with.

Two CSV layouts (``docs/figures.md``), told apart by their header:

* ``group,hwb_code``: named groups (e.g. "Shire counties"); a board's peers are the
  other members of its group(s);
* ``hwb_code,peer_code``: each board's own list (e.g. its nearest neighbours as the
  user holds them).

With no file, a board's peers are the other HWBs of its NHS region
(:func:`region_peers`). CIPFA's Nearest Neighbours Model is a licensed product
(CIPFAstats+, sold subject to CIPFA's terms: cipfa.org), so its groups are not bundled;
users who hold it can give their list in the second layout.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from bettercare.data.figures.layouts import AreaType, area_type_of
from bettercare.data.geography import HwbArea
from bettercare.errors import BadInput

PeerMap = dict[str, list[str]]


def region_peers(areas: Mapping[str, HwbArea]) -> PeerMap:
    """Each HWB's peers: the other HWBs of its NHS region."""
    by_region: dict[str, list[str]] = defaultdict(list)
    for code, a in areas.items():
        by_region[a.nhs_region].append(code)
    return {c: [o for o in by_region[a.nhs_region] if o != c] for c, a in areas.items()}


def read_peer_groups(path: Path) -> PeerMap:
    """Read a peer file; :class:`BadInput` names file, row, column and rule."""
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(f"{name}: cannot be read as a CSV file ({exc})") from None
    if not rows:
        raise BadInput(f"{name}: row 1 (header): the file is empty")
    header = [h.strip() for h in rows[0]]
    code_cols: tuple[int, ...]
    if header[:2] == ["group", "hwb_code"]:
        code_cols = (1,)
    elif header[:2] == ["hwb_code", "peer_code"]:
        code_cols = (0, 1)
    else:
        raise BadInput(
            f"{name}: row 1 (header): expected 'group,hwb_code' or 'hwb_code,peer_code', "
            f"not '{','.join(header)}'"
        )
    groups: dict[str, list[str]] = defaultdict(list)
    peers: PeerMap = defaultdict(list)
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2:
            raise BadInput(f"{name}: row {lineno}: needs two fields")
        cells = [c.strip() for c in row[:2]]
        for i in code_cols:
            if area_type_of(cells[i]) is not AreaType.HWB:
                raise BadInput(
                    f"{name}: row {lineno}, column {header[i]}: '{cells[i]}' is not an HWB's "
                    "ONS code (E06/E08/E09/E10)"
                )
        if code_cols == (1,):
            groups[cells[0]].append(cells[1])
        elif cells[1] != cells[0]:
            peers[cells[0]].append(cells[1])
    for members in groups.values():
        for code in members:
            peers[code] += [m for m in members if m != code and m not in peers[code]]
    return dict(peers)

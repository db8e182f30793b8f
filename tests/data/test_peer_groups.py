import pytest

from bettercare.data.figures.peer_groups import read_peer_groups, region_peers
from bettercare.data.geography import hwb_by_code
from bettercare.errors import BadInput


def test_groups_and_lists(tmp_path):
    g = tmp_path / "g.csv"
    g.write_text(
        "group,hwb_code\nA,E06000015\nA,E06000016\nA,E06000017\nB,E06000017\nB,E09000001\n"
    )
    peers = read_peer_groups(g)
    assert sorted(peers["E06000017"]) == ["E06000015", "E06000016", "E09000001"]
    assert peers["E09000001"] == ["E06000017"]
    nn = tmp_path / "nn.csv"
    nn.write_text("hwb_code,peer_code\nE06000017,E06000019\nE06000017,E06000020\n")
    assert read_peer_groups(nn) == {"E06000017": ["E06000019", "E06000020"]}


def test_bad_code_located(tmp_path):
    g = tmp_path / "g.csv"
    g.write_text("group,hwb_code\nA,E07000001\n")
    with pytest.raises(BadInput, match=r"row 2, column hwb_code: 'E07000001'"):
        read_peer_groups(g)


def test_region_peers_default():
    peers = region_peers(hwb_by_code())
    assert "E06000016" in peers["E06000017"]  # Leicester and Rutland: both Midlands
    assert "E09000001" not in peers["E06000017"]
    assert "E06000017" not in peers["E06000017"]

from bettercare.analytics.peers import AreaFigure, funnel
from bettercare.reporting.charts import funnel_svg


def test_funnel_svg_is_labelled_and_names_the_board():
    units = [AreaFigure(f"E0600000{i}", 80 + i, 100) for i in range(1, 8)]
    f = funnel("reablement_91_days", "2024/25", units, target=83.0)
    svg = funnel_svg(f, "E06000003", ["E06000001"], {"E06000003": "Redcar"})
    assert svg.startswith('<svg role="img"')
    assert "Redcar: 83.0%, within 95% limits" in svg  # a percentage says so
    assert "7 areas against England 83.0%" in svg

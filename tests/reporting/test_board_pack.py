"""The board pack (HTML + PDF), its SVG charts and ``bettercare report``.

Expected figures are worked out here from the plan files themselves (the YAML read
independently of the plan models) or by hand on the tiny store of ``metrics_fixtures``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import zlib
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml
from metrics_fixtures import A, store_file
from typer.testing import CliRunner

from bettercare.analytics.performance import RagThresholds
from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan
from bettercare.domain.p4p import performance_sum
from bettercare.reporting import charts
from bettercare.reporting.board_pack import (
    BoardPackError,
    build_board_pack,
    html_to_pdf,
    measure,
    recommendations,
)

EXAMPLES = Path(__file__).parents[2] / "examples"
RUTLAND = EXAMPLES / "rutland_2014.yaml"
SVG = "{http://www.w3.org/2000/svg}"
runner = CliRunner()


class _Page(HTMLParser):
    """What accessibility and self-containment checks need from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict[str, str | None]] = []
        self.urls: list[str] = []
        self.headings: list[str] = []
        self.col_headers_without_scope = 0
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "img":
            self.imgs.append(a)
        if tag in ("h1", "h2", "h3"):
            self.headings.append(tag)
        if tag == "th" and "scope" not in a:
            self.col_headers_without_scope += 1
        for key in ("src", "href"):
            if a.get(key) and not str(a[key]).startswith(("#", "data:")):
                self.urls.append(str(a[key]))


def _texts(pdf: bytes) -> list[bytes]:
    """The PDF and each of its Flate streams decompressed (object streams hold the pages)."""
    texts = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):  # an image or font stream, not Flate text
            texts.append(zlib.decompress(m.group(1)))
    return texts


def pdf_pages(pdf: bytes) -> int:
    """Page objects in a PDF, including those inside compressed object streams."""
    return sum(len(re.findall(rb"/Type\s*/Page(?![s\w])", t)) for t in _texts(pdf))


def svg_root(text: str) -> ElementTree.Element:
    root = ElementTree.fromstring(text)
    assert root.tag == f"{SVG}svg"
    return root


@pytest.fixture(scope="module")
def rutland_yaml() -> dict:
    return yaml.safe_load(RUTLAND.read_text())


@pytest.fixture(scope="module")
def rutland_pack():
    return build_board_pack(load_plan(RUTLAND), generated_on=dt.date(2026, 11, 27))


# -- the HTML ----------------------------------------------------------------------------------


def test_pack_shows_the_rutland_plan_figures(rutland_pack, rutland_yaml):
    html = rutland_pack.html
    # pooled budget: funding stated for 2015/16, summed from the YAML itself
    stated = sum(
        f["amount"]
        for f in rutland_yaml["funding"]
        if f["financial_year"] == "2015/16" and f["amount"] is not None
    )
    assert stated == 185_000
    assert f"£{stated:,}" in html
    assert f"£{rutland_yaml['minimum_pooled_budget']['2015/16']:,}" in html  # £2,226,000
    assert f"£{rutland_yaml['protected_social_care']['2015/16']:,}" in html  # £679,000
    # payment for performance: 103 admissions x £1,490 = £153,470, shared 50:50
    perf = rutland_yaml["performance"]
    linked = perf["planned_reduction"] * 1490
    assert linked == 153_470
    assert f"£{linked:,}" in html and "103 × £1,490" in html
    assert f"£{linked // 2:,}" in html  # each partner's exposure, £76,735
    # every scheme, partner and risk is there
    for s in rutland_yaml["schemes"]:
        assert f"<td>{s['reference']}</td>" in html
    for p in rutland_yaml["partners"]:
        assert p["name"] in html
    for r in rutland_yaml["risks"]:
        assert f"<td>{r['id']}</td>" in html
    assert "Rutland Health and Wellbeing Board" in html
    # the planning rules' findings: the summary count and Appendix A
    # 4: the 2014/15 protection amount is no longer asked (pooling began in 2015/16)
    assert "4 planning-rule error(s)" in html and "Appendix A. Planning rules" in html
    assert "Note that the plan has 4 planning-rule error(s)" in html


def test_pack_is_one_accessible_self_contained_file(rutland_pack):
    page = _Page()
    page.feed(rutland_pack.html)
    assert page.lang == "en-GB"
    assert page.urls == []  # nothing outside the file: charts and styles are inline
    # budget, risk heatmap, payment for performance; the scheme impact model: distribution,
    # tornado, partners' shortfall shares
    assert len(page.imgs) == 6
    for img in page.imgs:
        assert str(img["src"]).startswith("data:image/svg+xml;base64,")
        assert len(str(img.get("alt") or "")) > 20
    assert page.headings[0] == "h1" and page.headings.count("h1") == 1
    assert page.col_headers_without_scope == 0
    assert "@page" in rutland_pack.html and "counter(pages)" in rutland_pack.html


def test_plan_text_is_escaped(make_plan):
    def hostile(d: dict) -> None:
        d["schemes"][0]["name"] = "<script>alert(1)</script>"

    html = build_board_pack(make_plan(hostile)).html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_recommendations_follow_the_state_of_the_plan(make_plan):
    clean = make_plan()
    asked = recommendations(clean, [], performance_sum(clean), None, [])
    assert asked[0] == (
        "Approve the Better Care Fund plan for 2014-15 and 2015-16 for submission to NHS England."
    )
    assert any("£417,200" in r for r in asked)  # 280 x £1,490 linked to performance
    reds = recommendations(clean, [], None, None, ["Delayed transfers of care"])
    assert any("RED against plan: Delayed transfers of care" in r for r in reds)
    own = build_board_pack(clean, board_recommendations=["Note this report."]).html
    assert "<li>Note this report.</li>" in own and "Approve the Better Care Fund" not in own


# -- with linked data --------------------------------------------------------------------------


@pytest.fixture
def measured_plan(make_plan, tmp_path):
    """The fixture plan for the tiny store's HWB A, as ``test_cli_metrics`` builds it."""

    def change(d: dict) -> None:
        d["hwb"]["ons_code"] = A
        d["metrics"] = [
            {
                "metric": "delayed_transfers_of_care",
                "baseline": {"period": "2015/16", "value": 25},
                "time_basis": "month",
                "planned": [{"period": "2016/17", "value": 18.0}],
            }
        ]
        d["schemes"] = [
            {**d["schemes"][1], "reference": "ICRS", "admissions_avoided": {"2016/17": 1200}}
        ]

    return make_plan(change), store_file(tmp_path / "store.duckdb")


@pytest.mark.slow  # the metrics engine compiles its queries at two grains: about 10 s
def test_pack_with_a_store_shows_metrics_against_plan(measured_plan):
    plan, store = measured_plan
    html = build_board_pack(plan, store=store).html
    assert "7. Metrics: plan against actual" in html
    assert f"HWB {A}" in html
    # delayed transfers, latest month May 2016: 5.0 per 100,000 against plan 18.0 -> GREEN,
    # the unit beside the metric's name, the values at its precision (one decimal place)
    row = re.search(r"Delayed transfers of care.*?</tr>", html, re.S)
    assert row is not None
    assert "per 100,000 population aged 18+, per month" in row.group(0)
    assert "<td>May 2016</td>" in row.group(0) and ">18.0<" in row.group(0)
    assert ">5.0<" in row.group(0)
    assert 'class="pill GREEN"' in row.group(0)
    assert "2 points: too few for SPC limits and assurance" in row.group(0)
    assert "Appendix B. Statistical process control charts" in html
    assert 'alt="XmR chart of Delayed transfers of care' in html  # the plan's metric
    assert 'alt="XmR chart of Total non-elective' not in html  # measured, not in this plan
    assert "Scheme impact: non-elective admissions avoided" in html
    assert "no more than 2.5% of the plan value" in html
    # measured once with another amber tolerance: the pack states the one used
    linked = measure(plan, store, thresholds=RagThresholds(amber_tolerance_pct=5))
    assert "no more than 5% of the plan value" in build_board_pack(plan, linked=linked).html


def test_pack_refuses_a_store_it_cannot_measure(measured_plan, make_plan, tmp_path):
    plan, store = measured_plan
    with pytest.raises(BoardPackError, match="store file not found"):
        build_board_pack(plan, store=tmp_path / "missing.duckdb")
    with pytest.raises(BoardPackError, match="plan is for HWB E06000099"):
        build_board_pack(make_plan(), store=store)  # the fixture plan is another board's
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    with pytest.raises(BoardPackError, match="cannot be opened"):
        build_board_pack(plan, store=junk)


# -- the PDF -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_pdf_is_a_tagged_pdf_of_several_pages(rutland_pack):
    pdf = rutland_pack.pdf()
    assert pdf.startswith(b"%PDF-")
    assert pdf_pages(pdf) > 1
    text = b"".join(_texts(pdf))
    assert b"/StructTreeRoot" in text  # tagged: headings, tables, figures for screen readers
    assert text.count(b"/Alt") == 6  # each chart's alt text reaches the PDF


def test_pdf_fetches_nothing_but_data_uris(tmp_path):
    png = tmp_path / "outside.png"
    png.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
            "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
        )
    )
    pdf = html_to_pdf(f'<p>x</p><img src="file://{png}" alt="outside">')
    assert pdf.startswith(b"%PDF-")
    with_image = html_to_pdf(f'<p>x</p><img src="data:image/png;base64,{_b64(png)}" alt="in">')
    assert _images(with_image) >= 1  # a data URI is drawn
    assert _images(pdf) == 0  # a file URL is not fetched


def _b64(path: Path) -> str:
    import base64

    return base64.b64encode(path.read_bytes()).decode()


def _images(pdf: bytes) -> int:
    return sum(len(re.findall(rb"/Subtype\s*/Image", t)) for t in _texts(pdf))


# -- the charts --------------------------------------------------------------------------------


def test_charts_are_labelled_svg_without_leaking_state(make_plan):
    plan = load_plan(RUTLAND)
    rc_before = dict(matplotlib.rcParams)
    svgs = {
        "budget": charts.budget_by_source_svg(plan),
        "heatmap": charts.risk_heatmap_svg(plan),
        "p4p": charts.p4p_svg(performance_sum(plan)),
        "empty budget": charts.budget_by_source_svg(
            load_plan(EXAMPLES / "leicester_city_2014.yaml")
        ),
    }
    assert plt.get_fignums() == []  # no pyplot figure left open
    assert dict(matplotlib.rcParams) == rc_before  # the house style did not leak
    for text in svgs.values():
        root = svg_root(text)
        assert root.get("role") == "img" and root.get("aria-label")
        assert root[0].tag == f"{SVG}title"
        assert not text.lstrip().startswith("<?xml")
    # what each says, from the plan (Rutland funding 2015/16: £104,000 + £81,000)
    assert "2015-16 £185,000" in svg_root(svgs["budget"]).get("aria-label", "")
    assert "2014-15 not stated" in svg_root(svgs["budget"]).get("aria-label", "")
    heat = svg_root(svgs["heatmap"]).get("aria-label", "")
    assert "likelihood 2 impact 2: R8, R9" in heat and "likelihood 3 impact 4: R1" in heat
    assert "At stake (linked to performance) £153,470" in svg_root(svgs["p4p"]).get(
        "aria-label", ""
    )
    assert "Performance pot £591,000" in svg_root(svgs["p4p"]).get("aria-label", "")
    assert "states no funding amounts" in svgs["empty budget"]
    # deterministic: the same plan gives the same SVG
    assert charts.risk_heatmap_svg(plan) == svgs["heatmap"]


def test_metric_chart_shows_actual_against_plan():
    pva = pd.DataFrame(
        {
            "metric": ["delayed_transfers_of_care"] * 3,
            "period": ["2016-05", "2016-04", "2016-06"],  # out of order on purpose
            "actual": [20.0, 10.0, 5.0],
            "planned": [18.0, 18.0, 18.0],
            "baseline": [25.0, 25.0, 25.0],
            "rag": ["RED", "GREEN", "GREEN"],
        }
    )
    text = charts.metric_plan_vs_actual_svg(pva, "delayed_transfers_of_care")
    label = svg_root(text).get("aria-label", "")
    # the BCF period notation, the metric's precision and its unit
    assert label.endswith(
        "latest June 2016: 5.0 per 100,000 population aged 18+ against plan 18.0 per "
        "100,000 population aged 18+, GREEN"
    )
    assert "lower is better" in label
    # points are coloured by RAG: one red, two green
    assert (
        text.count(charts.RAG_COLOURS["RED"]) >= 1 and text.count(charts.RAG_COLOURS["GREEN"]) >= 2
    )
    empty = charts.metric_plan_vs_actual_svg(pva, "non_elective_admissions")
    assert "No actuals for" in empty


def test_p4p_chart_with_earnings(make_plan):
    from bettercare.analytics.scheme_impact import P4PEarned
    from bettercare.domain.p4p import earned_to_date

    plan = make_plan()
    planned = performance_sum(plan)  # 280 x £1,490 = £417,200 linked
    # 6 months: baseline 3,000 pro rata, 2,900 actual -> 100 avoided x £1,490 = £149,000
    to_date = earned_to_date(planned, 6, Decimal(3000), Decimal(2900))
    label = svg_root(charts.p4p_svg(planned, P4PEarned("2015/16", to_date))).get("aria-label", "")
    assert "Linked to date (6 month(s)) £208,600" in label  # £417,200 x 6 / 12
    assert "Earned to date £149,000" in label and "Retained to date £59,600" in label


# -- bettercare report -------------------------------------------------------------------------


def test_report_writes_html(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("other output")
    res = runner.invoke(
        app, ["report", "--plan", str(RUTLAND), "--out", str(out), "--format", "html"]
    )
    assert res.exit_code == 0, res.output
    assert "£153,470" in (out / "board-pack.html").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["board-pack.html", "keep.txt"]
    assert "breaks 4 planning rule(s)" in res.output  # said, and the pack still written


@pytest.mark.slow
def test_report_writes_html_and_pdf(tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["report", "--plan", str(RUTLAND), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "board-pack.pdf").read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in out.iterdir()) == ["board-pack.html", "board-pack.pdf"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing plan", "plan file not found"),
        ("invalid plan", "unknown field 'schemez'"),
        ("not yaml", "not valid YAML"),
        ("missing store", "store file not found"),
        ("junk store", "cannot be opened as a DuckDB analytics store"),
        ("empty store", "plan is for HWB E06000017 (Rutland Health and Wellbeing Board)"),
        ("bad format", "--format 'docx' is not one of html, pdf, both"),
        ("out is a file", "is a file, not a directory"),
    ],
)
def test_report_bad_input(tmp_path, rutland_yaml, case, message):
    plan = tmp_path / "plan.yaml"
    plan.write_text(RUTLAND.read_text())
    out = tmp_path / "out"
    args = ["report", "--plan", str(plan), "--out", str(out), "--format", "html"]
    if case == "missing plan":
        plan.unlink()
    elif case == "invalid plan":
        plan.write_text(yaml.safe_dump({**rutland_yaml, "schemez": []}))
    elif case == "not yaml":
        plan.write_text("plan_id: [unclosed\n")
    elif case == "missing store":
        args += ["--store", str(tmp_path / "missing.duckdb")]
    elif case == "junk store":
        (tmp_path / "junk.duckdb").write_text("not a database")
        args += ["--store", str(tmp_path / "junk.duckdb")]
    elif case == "empty store":
        duckdb.connect(str(tmp_path / "empty.duckdb")).close()
        args += ["--store", str(tmp_path / "empty.duckdb")]
    elif case == "bad format":
        args[-1] = "docx"
    elif case == "out is a file":
        out.write_text("a file")
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert message in lines[0]
    assert "Traceback" not in res.output
    if case != "out is a file":
        assert not out.exists()  # nothing written
    else:
        assert out.read_text() == "a file"


def test_p4p_outside_the_national_scheme_is_a_value_not_a_payment():
    html = build_board_pack(load_plan(EXAMPLES / "leicestershire_2016.yaml")).html
    # 2016/17: 1,517 admissions avoided x £1,490 = £2,260,330, a value and not a payment
    assert f"£{1517 * 1490:,}" == "£2,260,330"
    assert "2016-17 is outside the national scheme (2015-16); 1,517 admissions avoided" in html
    assert "linked to reducing" not in html  # no recommendation about money at stake


def test_pack_shows_the_scheme_impact_model(rutland_pack) -> None:
    from bettercare.analytics.modelling import ImpactParams, run_impact

    expected = run_impact(load_plan(RUTLAND), ImpactParams()).probability_meeting_target
    assert f"Probability of meeting the target: {expected:.0%}" in rutland_pack.html
    assert "Which schemes matter most" in rutland_pack.html


def test_pack_says_why_a_plan_is_not_modelled() -> None:
    html = build_board_pack(load_plan(EXAMPLES / "leicester_city_2014.yaml")).html
    assert "Will the schemes deliver?" in html
    assert "Not modelled:" in html


def test_pack_shows_care_coordination_coverage() -> None:
    from bettercare.analytics.care_coverage import ALL, CoverageRow

    rows = [
        CoverageRow(
            ALL, dt.date(2026, 9, 1), ALL, at_risk=200, with_plan=150, with_lead=100, with_both=90
        ),
        CoverageRow(
            ALL, dt.date(2026, 10, 1), ALL, at_risk=5, with_plan=5, with_lead=5, with_both=5
        ),
        CoverageRow(
            "A81001", dt.date(2026, 10, 1), ALL, at_risk=400, with_plan=0, with_lead=0, with_both=0
        ),
    ]
    html = build_board_pack(load_plan(RUTLAND), care_coverage=rows).html
    section = html[html.index('id="care-coordination"') :]
    section = section[: section.index("</section>")]
    # September: 200 at risk, 150/200 = 75% with a plan, 50% with a lead, 45% with both
    assert 'Sep 2026</th><td class="num">200</td><td class="num">75%</td>' in section
    assert '<td class="num">50%</td><td class="num">45%</td>' in section
    assert 'Oct 2026</th><td class="num">suppressed</td>' in section  # 5 people: 1-7
    assert "400" not in section  # one practice's row is not the all-practices figure


def _report_with_register(url: str, out: Path, *options: str):
    """``bettercare report`` of Rutland with the care register database ``url``."""
    return CliRunner().invoke(
        app,
        ["report", "--plan", str(RUTLAND), "--register-database", url, "--out", str(out), *options],
    )


def test_report_refuses_a_missing_register_database(tmp_path) -> None:
    result = _report_with_register(f"sqlite:///{tmp_path / 'nope.db'}", tmp_path / "out")
    assert result.exit_code == 2
    assert "no such database file" in result.output
    assert not (tmp_path / "out").exists()


def test_report_with_the_care_register(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    made = CliRunner().invoke(
        app, ["register", "demo", "--hwb", "E06000017", "--n", "40", "--database", url]
    )
    assert made.exit_code == 0, made.output
    result = _report_with_register(url, tmp_path / "out", "--format", "html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "board-pack.html").read_text()
    assert "Care coordination: joint care plans and lead professionals" in html
    assert "People at risk</th>" in html


# -- numbers and codes as people read them -----------------------------------------------------


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_pack_shows_no_raw_codes(example) -> None:
    """Funding sources, conditions, states, metrics and partners read as words, not codes."""
    from shown_codes import raw_codes, visible_text

    plan = load_plan(EXAMPLES / example)
    text = visible_text(build_board_pack(plan).html)
    partner_ids = {p.id for p in plan.partners if "_" in p.id}
    assert raw_codes(text, partner_ids) == []
    # one period notation: the plan's years as the BCF templates write them
    assert all(f"{fy[:4]}-{fy[5:]}" in text for fy in plan.financial_years)


def test_pack_shows_units_and_whole_counts() -> None:
    from shown_codes import visible_text

    text = visible_text(build_board_pack(load_plan(EXAMPLES / "leicestershire_2016.yaml")).html)
    # the plan's trajectories say their unit (seed 002: rates per 100,000 per month/year)
    assert "per 100,000 population aged 65+" in text
    assert "per 100,000 population (all ages), per month" in text
    assert "% of people 65+ discharged into reablement still at home 91 days later" in text
    # counts are whole: 1,517 admissions avoided (the P4P figure), never "1,517.00"
    assert "1,517 admissions" in text and "1,517.00" not in text

"""The fusion report as PDF, checked as a person would: it opens, has pages, says the period, shows the
findings and the charts (parsed with pypdf; nothing generated is kept)."""
import io
from datetime import datetime, timezone

from pypdf import PdfReader

from engine.hub.generate import generate
from tests.hub_support import hub_platform, load  # noqa: F401


def images(reader: PdfReader) -> int:
    n = 0
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject") or {}
        n += sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")
    return n


def test_fusion_report_pdf_opens_with_pages_period_findings_and_charts(api, hub_platform):
    data = generate(seed=11, start=datetime(2026, 9, 1, tzinfo=timezone.utc), days=91, equipment=30, people=200,
                    work_records=3000, hazards=900, teams=20, areas=6, planted_load=("EQ-0007",), load_multiplier=5.0)
    load(hub_platform, data)
    assert api.post("/api/v1/analytics/runs", "safety1", json={"period": "2026-11"}).status_code == 201
    r = api.get("/api/v1/reports/fusion?period=2026-11&format=pdf", "boss1")
    assert r.status_code == 200 and r.mimetype == "application/pdf", r.data[:300]
    assert r.data.startswith(b"%PDF-") and r.data.rstrip().endswith(b"%%EOF")
    assert 'filename="fusion-report-2026-11.pdf"' in r.headers["Content-Disposition"]
    pdf = PdfReader(io.BytesIO(r.data))
    assert len(pdf.pages) >= 2
    assert "2026-11" in pdf.metadata.title
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "安全生产融合分析报告（2026-11）" in text                       # Chinese text is real text
    assert "\u00b7" not in text  # a middle dot: viewers standing in their own font for STSong-Light draw a box
    for title in ("设备负荷与隐患/故障", "违章热点", "监督精准度与干扰", "作业许可统计", "主要发现", "已推送建议"):
        assert title in text, title
    assert "EQ-0007" in text                                                # the planted finding and its push
    assert images(pdf) >= 6                                                 # trend, load bands, flagged, hotspots …
    json_twin = api.get("/api/v1/reports/fusion?period=2026-11&format=json", "boss1").json
    assert str(json_twin["indicators"]["hazards_found"]) in text

    by_accept = api.get("/api/v1/reports/fusion?period=2026-11", "boss1", headers={"Accept": "application/pdf"})
    assert by_accept.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(by_accept.data)).pages) == len(pdf.pages)
    browser = api.get("/api/v1/reports/fusion?period=2026-11", "boss1",
                      headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.mimetype == "text/html"


def test_pdf_of_a_month_without_runs_and_bad_format(api, hub_platform):
    r = api.get("/api/v1/reports/fusion?period=2026-10&format=pdf", "boss1")
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "2026-10" in text and "本期尚未运行" in text                     # said, not invented
    r = api.get("/api/v1/reports/fusion?period=2026-10&format=docx", "boss1")
    assert r.status_code == 422 and "format" in str(r.json)

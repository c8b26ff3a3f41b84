"""`drapto report` and `drapto encode --report`: the page's data equals what the encode attached, its charts
are valid SVG, a standard-mode output shows what exists, and `--vmaf` agrees with ffmpeg's own libvmaf.
The pure parts (crop, history lookup, report data, the page) are tested without ffmpeg."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec
import pytest
from conftest import AudioSpec, ClipSpec, json_events, multi_scene_graph, run_drapto

from drapto.core.media import MediaInfo, VideoStream
from drapto.core.shots import ShotScore
from drapto.core.units import ChunkResult, ChunkResults, TryRecord
from drapto.graph.validate import attached_results
from drapto.shell.history import HistoryRecord
from drapto.shell.report.data import (
    ChunkRow,
    ReportData,
    binned,
    build_report,
    centred_crop,
    crop_of,
    file_score,
    frame_times,
    newest_record,
)
from drapto.shell.report.page import DATA_ID, render_html

MULTI = ClipSpec(
    duration=6.0,
    rate="24",
    video_graph=multi_scene_graph(320, 180, "24", 2.0),
    audio=(AudioSpec("stereo", 2, "eng", "Stereo", True),),
)
CHUNK_ENV = {"DRAPTO_CHUNK_MIN_SECONDS": "1", "DRAPTO_CHUNK_MAX_SECONDS": "3"}
# 2.35:1 picture letterboxed into 320x180: 22 black rows above and below, cropped away by the encode
LETTERBOX = ClipSpec(
    width=320, height=136, video_filter="pad=320:180:0:22:black", duration=2.0, audio=(), subtitles=False,
    chapters=False,
)  # fmt: skip


def page_svgs(page: str) -> list[ET.Element]:
    """Every inline chart of the page, parsed."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", page, flags=re.S)]


def page_data(page: str) -> dict:
    """The JSON data block the page carries."""
    match = re.search(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', page, flags=re.S)
    assert match, "the page has no data block"
    return json.loads(match[1])


def points(length: str) -> float:
    assert length.endswith("pt"), length
    return float(length[:-2])


def report(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = run_drapto("report", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# -- with the real ffmpeg -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chunked(make_clip, tmp_path_factory):
    """A chunked encode of three 2 s scenes with --report; returns (source, output, the encode's events)."""
    folder = tmp_path_factory.mktemp("report-chunked")
    source = folder / "film.mkv"
    source.write_bytes(make_clip(MULTI).read_bytes())
    result = run_drapto(
        "encode", source, folder / "out", "--json", "--report", "--preset", "12", "--workers", "2", env=CHUNK_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return source, folder / "out" / "film.mkv", json_events(result.stdout)


@pytest.fixture(scope="module")
def standard(make_clip, tmp_path_factory):
    """A standard-mode encode of a letterboxed clip (the encode crops it); returns (source, output)."""
    folder = tmp_path_factory.mktemp("report-standard")
    source = folder / "wide.mkv"
    source.write_bytes(make_clip(LETTERBOX).read_bytes())
    result = run_drapto("encode", source, folder / "out", "--standard", "--preset", "12")
    assert result.returncode == 0, result.stdout + result.stderr
    return source, folder / "out" / "wide.mkv"


@pytest.mark.ffmpeg
def test_encode_report_writes_the_page_beside_the_output(chunked):
    _source, output, events = chunked
    page = output.with_name("film.report.html")
    assert page.is_file()
    notices = [e["message"] for e in events if e["event"] == "notice"]
    assert f"report: {page}" in notices
    assert page_data(page.read_text())["crop_from"] == "recorded by the encode"


@pytest.mark.ffmpeg
def test_report_page_shows_the_attached_chunk_results(chunked, ffmpeg):
    source, output, _events = chunked
    page_path = output.with_name("film.report.html")
    page_path.unlink()
    result = report(output)
    assert result.stdout.strip() == str(page_path)
    page = page_path.read_text()
    data = page_data(page)
    attached = attached_results(ffmpeg, output)
    assert attached is not None and len(attached.chunks) == 3

    # the page's data is the attachment's
    assert len(data["chunks"]) == len(attached.chunks)
    assert [c["crf"] for c in data["chunks"]] == [r.crf for r in attached.chunks]
    assert [c["vmaf"] for c in data["chunks"]] == [r.vmaf for r in attached.chunks]
    assert [c["predicted_vmaf"] for c in data["chunks"]] == [r.predicted_vmaf for r in attached.chunks]
    assert [c["tries"] for c in data["chunks"]] == [len(r.tries) for r in attached.chunks]
    assert [(c["start"], c["end"]) for c in data["chunks"]] == [(0, 48), (48, 96), (96, 144)]
    assert [c["cut"] for c in data["chunks"]] == ["start", "scene", "scene"]
    assert data["crf_range"] == [min(r.crf for r in attached.chunks), max(r.crf for r in attached.chunks)]
    assert data["mode"] == "chunked" and data["target_vmaf"] == 93.0 and data["band"] == [92.0, 95.0]
    # the header's facts: the source and the history's record of the encode
    assert data["source"] == str(source) and data["source_bytes"] == source.stat().st_size
    assert data["output_bytes"] == output.stat().st_size
    assert data["wall_seconds"] > 0 and data["speed"] > 0 and data["preset"] == 12
    assert data["frames"] == 144 and (data["width"], data["height"]) == (320, 180)
    assert data["crop"] is None and data["dynamic"] == "SDR"
    # the table shows each chunk's CRF and VMAF
    rows = re.findall(r"<tr(?: class='out')?><td>(\d+)</td>.*?</tr>", page)
    assert rows == ["0", "1", "2"]
    for chunk in attached.chunks:
        capped = " capped" if chunk.capped else ""
        assert f"<td>{chunk.crf:g}</td>" in page and f"<td>{chunk.vmaf:.2f}{capped}</td>" in page

    # two charts, each valid SVG of a sensible size
    svgs = page_svgs(page)
    assert len(svgs) == 2
    assert re.search(r"<figure id='timeline'><svg", page) and re.search(r"<figure id='histogram'><svg", page)
    for svg in svgs:
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        assert 300 <= points(svg.get("width")) <= 1000 and 150 <= points(svg.get("height")) <= 800
        assert len(list(svg.iter())) > 50
    # self-contained: nothing to fetch, nothing to run
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)|url\((?!#)|@import""", page)
    assert "<script>" not in page and "<script" not in page.replace(
        f'<script type="application/json" id="{DATA_ID}">', ""
    )

    # --json prints the same data, and writes nothing
    page_path.unlink()
    as_json = json.loads(report(output, "--json").stdout)
    assert not page_path.exists()
    assert {**as_json, "generated": None} == {**data, "generated": None}


@pytest.mark.ffmpeg
def test_standard_report_shows_what_exists(standard):
    _source, output = standard
    page = output.with_name("wide.report.html")
    report(output)
    text = page.read_text()
    data = page_data(text)
    assert data["mode"] == "standard" and data["crf"] == 25 and data["chunks"] == []
    assert data["target_vmaf"] is None and data["whole_file"] is None
    assert (data["width"], data["height"]) == (320, 136)
    assert data["crop"] == "320:136:0:22" and data["crop_from"].startswith("derived")
    assert page_svgs(text) == []  # nothing measured, nothing to chart
    assert "standard-mode encode" in text


@pytest.mark.ffmpeg
def test_vmaf_agrees_with_ffmpegs_own_libvmaf(standard, ffmpeg, tmp_path):
    source, output = standard
    data = json.loads(report(output, "--vmaf", "--json").stdout)
    whole = data["whole_file"]
    assert whole["frames"] == 48 and len(whole["scores"]) == 48
    assert whole["crop"] == "320:136:0:22" and whole["model"] == "vmaf_v0.6.1" and whole["scale"] == [1920, 816]
    assert whole["low_1pct"] == pytest.approx(min(whole["scores"]), abs=1e-3) and whole["low_1pct"] <= whole["mean"]

    # ffmpeg's own run with the same settings: the crop, the bicubic upscale to 1920x816, 10-bit, the 1080p model
    log = tmp_path / "vmaf.json"
    sides = "scale=1920:816:flags=bicubic,format=yuv420p10le"
    graph = f"[0:v]{sides}[dis];[1:v]crop=320:136:0:22,{sides}[ref];[dis][ref]libvmaf=model=version=vmaf_v0.6.1:log_fmt=json:log_path={log.name}"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(output), "-i", str(source), "-lavfi", graph, "-f", "null", "-"],
        check=True, cwd=tmp_path,
    )  # fmt: skip
    pooled = json.loads(log.read_text())["pooled_metrics"]["vmaf"]
    assert abs(whole["mean"] - pooled["mean"]) < 0.5, (whole["mean"], pooled["mean"])
    assert abs(whole["minimum"] - pooled["min"]) < 0.5

    page = output.with_name("wide.report.html")
    report(output, "--vmaf")
    text = page.read_text()
    assert "1 % low" in text and [s.get("id") for s in page_svgs(text)] and len(page_svgs(text)) == 2


@pytest.mark.ffmpeg
def test_vmaf_without_a_source_is_a_clear_error(standard, tmp_path):
    _source, output = standard
    result = run_drapto("report", output, "--vmaf", "--source", tmp_path / "gone.mkv")
    assert result.returncode == 2
    assert "--vmaf needs the source" in result.stderr and "Traceback" not in result.stderr
    missing = run_drapto("report", tmp_path / "nothing.mkv")
    assert missing.returncode == 2 and "Input not found" in missing.stderr


# -- pure ----------------------------------------------------------------------------------------------------------


def test_centred_crop_and_where_the_crop_comes_from():
    assert centred_crop((1920, 1080), (1920, 800)) == "1920:800:0:140"
    assert centred_crop((640, 360), (480, 360)) == "480:360:80:0"
    assert centred_crop((1920, 1080), (1920, 1080)) is None
    assert centred_crop((1920, 1080), (3840, 2160)) is None
    assert centred_crop((1920, 1080), (1920, 802)) == "1920:802:0:138"  # odd margins round down to even
    assert crop_of("1920:800:0:100", (1920, 1080), (1920, 800)) == ("1920:800:0:100", "recorded by the encode")
    assert crop_of("", (1920, 1080), (1920, 1080)) == (None, "recorded by the encode")
    assert crop_of(None, (1920, 1080), (1920, 1080))[0] is None
    assert crop_of(None, (1920, 1080), (1920, 800))[1].startswith("derived")
    assert crop_of(None, None, (1920, 800))[1].startswith("unknown")


def _record(output: str, finished: str, seconds: float) -> HistoryRecord:
    return HistoryRecord(
        finished=finished, source="/in/film.mkv", output=output, input_bytes=4000, output_bytes=1000,
        reduction=75.0, seconds=seconds, duration=120.0, speed=120.0 / seconds, mode="standard", preset=6, crf=25,
    )  # fmt: skip


def test_the_newest_history_record_for_the_output_wins():
    records = [
        _record("/out/film.mkv", "1", 10.0),
        _record("/out/other.mkv", "2", 20.0),
        _record("/out/film.mkv", "3", 30.0),
    ]
    assert newest_record(records, "/out/film.mkv").finished == "3"
    assert newest_record(records, "/out/nothing.mkv") is None


def _media(path: str, width: int, height: int, duration: float = 6.0) -> MediaInfo:
    video = VideoStream(index=0, codec="AV1", width=width, height=height, frame_rate="24/1", frame_count=144)
    return MediaInfo(path=path, container="Matroska", duration=duration, video=(video,))


def _results(chunks: int = 3, seconds: float = 2.0, crop: str | None = None) -> ChunkResults:
    frames = round(seconds * 24)
    out = []
    for i in range(chunks):
        tries = (TryRecord(key="k", crf=30.0, vmaf=96.0, frames_scored=10, bytes=9000, seconds=1.0),
                 TryRecord(key="k", crf=34.0 + i, vmaf=93.0 - i * 0.9, frames_scored=10, bytes=8000, seconds=1.0))  # fmt: skip
        out.append(
            ChunkResult(
                index=i,
                start=i * frames,
                end=(i + 1) * frames,
                start_time=i * seconds,
                end_time=(i + 1) * seconds,
                crf=tries[-1].crf,
                predicted_vmaf=93.5,
                vmaf=tries[-1].vmaf,
                in_band=92 <= tries[-1].vmaf <= 95,
                bytes=8000,
                seconds=2.0,
                tries=tries,
                cut="start" if i == 0 else ("scene" if i % 2 else "split"),
            )
        )
    return ChunkResults(target_vmaf=93.0, frames=chunks * frames, chunks=tuple(out), crop=crop)


def test_report_data_from_the_attachment_alone():
    data = build_report(
        output="/out/film.mkv", output_bytes=30000, output_media=_media("/out/film.mkv", 320, 180),
        generated="now", results=_results(crop=""),
    )  # fmt: skip
    assert data.mode == "chunked" and len(data.chunks) == 3 and data.band == (92.0, 95.0)
    assert [r.crf for r in data.chunks] == [34.0, 35.0, 36.0] and data.crf_range == (34.0, 36.0)
    assert data.chunk_vmaf == (91.2, 92.1, 93.0) and data.in_band == 2
    assert data.chunks[0].kbps == 8000 * 8 / 2.0 / 1000 and data.chunks[0].tried_crfs == (30.0, 34.0)
    assert data.search_encodes == 6 and data.encode_seconds == 6.0
    assert (data.crop, data.crop_from) == (None, "recorded by the encode")
    # what nothing holds is unknown, and said so
    assert data.source is None and data.wall_seconds is None and data.speed is None and data.reduction is None
    assert any("history" in note for note in data.notes) and any("source is unknown" in note for note in data.notes)


def test_report_data_for_a_standard_encode_from_the_history():
    data = build_report(
        output="/out/film.mkv", output_bytes=1000, output_media=_media("/out/film.mkv", 1920, 800, 120.0),
        generated="now", source="/in/film.mkv", source_media=_media("/in/film.mkv", 1920, 1080, 120.0),
        source_bytes=4000, record=_record("/out/film.mkv", "3", 30.0),
    )  # fmt: skip
    assert data.mode == "standard" and data.crf == 25 and data.chunks == () and data.band is None
    assert data.reduction == 75.0 and data.wall_seconds == 30.0 and data.speed == 4.0
    assert data.crop == "1920:800:0:140" and data.crop_from.startswith("derived")
    assert any("--vmaf" in note for note in data.notes)


def test_whole_file_scores_pool_and_split_over_the_chunks():
    scores = [90.0] * 48 + [80.0] * 48 + [95.0] * 48
    score = file_score(scores, model="vmaf_v0.6.1", scale=(1920, 1080), crop=None, crop_from="x", seconds=1.0)
    assert score.mean == pytest.approx(88.3333, abs=1e-3) and score.minimum == 80.0 and score.low_1pct == 80.0
    data = build_report(
        output="/o.mkv", output_bytes=1, output_media=_media("/o.mkv", 320, 180), generated="now",
        results=_results(), whole_file=score,
    )  # fmt: skip
    assert [r.file_vmaf for r in data.chunks] == [90.0, 80.0, 95.0]
    times = frame_times(data)
    assert len(times) == 144 and times[48] == 2.0 and times[1] == pytest.approx(1 / 24)
    assert binned([1.0, 2.0, 3.0, 4.0, 5.0], 2) == [(0, 3, 2.0, 1.0), (3, 5, 4.5, 4.0)]


@pytest.mark.parametrize("chunks", [3, 200])
def test_the_page_is_self_contained_with_valid_charts(chunks):
    scores = [93.0 + (i % 7) / 3 for i in range(chunks * 48)]
    score = file_score(scores, model="vmaf_v0.6.1", scale=None, crop=None, crop_from="x", seconds=1.0)
    data = build_report(
        output="/out/a <b> & c.mkv", output_bytes=1, output_media=_media("/out/a <b> & c.mkv", 320, 180),
        generated="now", results=_results(chunks), whole_file=score,
    )  # fmt: skip
    page = render_html(data)
    assert "<title>drapto report: a &lt;b&gt; &amp; c.mkv</title>" in page
    svgs = page_svgs(page)
    assert len(svgs) == 3  # timeline, per-frame curve, histogram
    for svg in svgs:
        assert 300 <= points(svg.get("width")) <= 1000
    assert msgspec.json.decode(json.dumps(page_data(page)).encode(), type=ReportData) == data
    assert page.count("<tr") == chunks + 1 + page.count("<tr><th>")  # a row per chunk, a header row, the facts
    assert isinstance(data.chunks[0], ChunkRow)


def test_drapto_encode_does_not_import_matplotlib():
    code = "import sys, drapto.shell.cli, drapto.shell.report.page, drapto.shell.report.inputs; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_report_says_how_vmaf_was_scored_and_warns_when_the_output_grew():
    from drapto.core.vmaf import scoring_for

    results = msgspec.structs.replace(
        _results(crop=""), vmaf_scale="auto", scoring=scoring_for(256, 144, every=10, pool="mean")
    )
    data = build_report(
        output="/out/film.mkv", output_bytes=292_000, output_media=_media("/out/film.mkv", 256, 144),
        generated="now", source="/in/film.mkv", source_bytes=241_000, results=results,
    )  # fmt: skip
    assert data.scoring == "vmaf_v0.6.1 at 1920x1080 (upscaled from 256x144, vmaf-scale auto)"
    assert data.reduction == -21.16 and data.warnings[0].startswith("the output is 21.2% LARGER than its source")
    page = render_html(data)
    assert "21.2 % LARGER" in page and "<strong>Warning:</strong> the output is 21.2% LARGER" in page
    assert _results().scoring is None  # results written before the field still decode


def test_the_chunk_table_shows_each_shot_and_a_confirmed_vmaf():
    results = _results(2)
    first = msgspec.structs.replace(
        results.chunks[0], confirmed=True, worst=92.4,
        shots=(ShotScore(start=0, end=24, vmaf=92.4, frames=24), ShotScore(start=24, end=48, vmaf=95.6, frames=24)),
    )  # fmt: skip
    results = msgspec.structs.replace(results, chunks=(first, results.chunks[1]))
    data = build_report(
        output="/out/film.mkv", output_bytes=30000, output_media=_media("/out/film.mkv", 320, 180),
        generated="now", results=results,
    )  # fmt: skip
    assert data.chunks[0].shots == first.shots and data.chunks[0].confirmed
    page = render_html(data)
    assert "<td class=l>0:00:00.000 92.40 · 0:00:01.000 95.60</td>" in page  # each shot's start and VMAF
    assert "93.00 (all frames)" in page and "<td class=l>–</td>" in page  # a chunk of one shot

"""Containers: what the Matroska output carries of a source's subtitles, attachments, cover art and chapters,
and the one notice for what it cannot hold (drapto.core.carry). The pure parts read `ffmpeg -i` listings of
sources made with the embedded ffmpeg (tests/fixtures/listing); the real encodes make each shape with
ffmpeg and read the output with pymediainfo and ffmpeg's stream copy, not with drapto's own code."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymediainfo import MediaInfo as LibMediaInfo

from drapto.core import commands
from drapto.core.carry import Carry, Cover, SubtitleMap, carried_attachments, carry, dropped_notice, output_counts
from drapto.core.config import Config
from drapto.core.listing import ListedStream, Listing, parse_listing
from drapto.core.media import AudioStream, Chapter, MediaInfo, TextStream, VideoStream
from drapto.core.plan import plan_standard
from drapto.graph.validate import check_output
from tests.conftest import json_events, run_drapto

FIXTURES = Path(__file__).parent / "fixtures" / "listing"
VIDEO = (VideoStream(index=0, codec="AVC", width=320, height=180, frame_rate="24/1", duration=2.0),)
AUDIO = (AudioStream(index=0, codec="AAC", channels=1, duration=2.0),)


def media(name: str, **fields) -> MediaInfo:
    listing = parse_listing((FIXTURES / f"{name}.txt").read_text())
    return MediaInfo(
        path=f"/in/{name}", container="x", duration=2.0, video=VIDEO, audio=AUDIO, listing=listing, **fields
    )


def test_an_mp4s_chapters_are_counted_as_ffmpeg_reads_them_and_its_timed_text_becomes_srt():
    # MediaInfo lists the QuickTime chapter track and the Nero list: 4 chapters; ffmpeg reads 2
    chapters = tuple(Chapter(start=s, title="x") for s in (0.0, 0.0, 1.0, 1.0))
    mp4 = media("mp4text.mp4", chapters=chapters, text=(TextStream(index=0, codec="Timed Text"),))
    carried = carry(mp4)
    assert carried.chapters == 2
    assert carried.subtitles == (SubtitleMap(stream="2", codec="srt"),)
    assert dropped_notice(carried) == (
        "Not carried into the Matroska output (Matroska cannot hold it): "
        "stream 3 (the QuickTime chapter track; its chapters are kept)"
    )


def test_mp4_cover_art_becomes_a_cover_attachment_and_data_streams_are_named():
    carried = carry(media("cover.mp4"))
    assert carried.covers == (Cover(index=4, filename="cover.jpg", mimetype="image/jpeg"),)
    assert carried_attachments(carried) == 1
    assert carried.dropped == (
        "stream 2 (data, bin_data)",
        "stream 3 (the QuickTime chapter track; its chapters are kept)",
    )


def test_a_matroska_sources_font_is_mapped_and_its_image_attachment_keeps_its_name():
    carried = carry(media("assfontcover.mkv"))
    assert carried.subtitles == (SubtitleMap(stream="2", codec="copy"),)
    assert carried.attachments == ("3",)
    assert carried.covers == (Cover(index=4, filename="cover_land.jpg", mimetype="image/jpeg"),)
    assert carried_attachments(carried) == 2 and carried.dropped == ()


def test_mov_closed_captions_become_srt_and_a_timecode_track_is_named():
    assert carry(media("cc.mov")).subtitles == (SubtitleMap(stream="2", codec="srt"),)
    assert carry(media("tc.mov")).dropped == ("stream 2 (a timecode track)",)


def test_dvb_subtitles_in_mpeg_ts_are_copied():
    assert carry(media("dvb.ts")).subtitles == (SubtitleMap(stream="2", codec="copy"),)


def test_captions_inside_the_video_are_named_and_not_counted_as_subtitles():
    # MediaInfo's EIA-608 text track inside an H.264 stream; ffmpeg lists no subtitle stream for it
    source = media("delay.mkv.txt".removesuffix(".txt"), text=(TextStream(index=0, codec="EIA-608"),))
    carried = carry(source)
    assert carried.subtitles == ()
    assert carried.dropped == ("closed captions inside the video (EIA-608/708)",)


def test_teletext_and_a_second_video_are_named():
    listing = Listing(
        start=0.0,
        streams=(
            ListedStream(index=0, kind="video", codec="h264"),
            ListedStream(index=1, kind="video", codec="mpeg2video"),
            ListedStream(index=2, kind="subtitle", codec="dvb_teletext"),
            ListedStream(index=3, kind="subtitle", codec="hdmv_pgs_subtitle"),
        ),
    )
    source = MediaInfo(path="/in/a.ts", container="x", duration=2.0, video=VIDEO, listing=listing)
    carried = carry(source)
    assert carried.subtitles == (SubtitleMap(stream="3", codec="copy"),)
    assert carried.dropped == ("stream 1 (a second video, mpeg2video)", "stream 2 (teletext)")


@given(st.lists(st.sampled_from(["mjpeg", "png", "bmp"]), max_size=6))
def test_every_cover_gets_a_name_of_its_own(codecs):
    streams = (ListedStream(index=0, kind="video", codec="h264"),) + tuple(
        ListedStream(index=i + 1, kind="video", codec=c, attached_pic=True) for i, c in enumerate(codecs)
    )
    source = MediaInfo(path="/a.mp4", container="x", duration=1.0, video=VIDEO, listing=Listing(streams=streams))
    names = [c.filename for c in carry(source).covers]
    assert len(names) == len(set(names)) == len(codecs)
    assert all(n.startswith("cover") for n in names)


def test_the_plan_extracts_covers_and_the_mux_attaches_them(tmp_path, snapshot):
    source = media("assfontcover.mkv")
    plan = plan_standard(source, Config(), ffmpeg="FFMPEG", output=tmp_path / "a.mkv")
    cover = next(s for s in plan.steps if s.name == "cover-04")
    mux = next(s for s in plan.steps if s.name == "mux")
    assert cover.target in mux.inputs
    assert plan.expect.attachments == 2 and plan.expect.subtitles == 1 and plan.expect.chapters == 0
    work = str(tmp_path / ".drapto" / "a")
    assert [[a.replace(work, "WORK") for a in step.argv] for step in (cover, mux)] == snapshot


def test_mux_argv_converts_by_position_and_numbers_attachments_after_the_fonts(snapshot):
    carried = Carry(
        subtitles=(SubtitleMap(stream="2", codec="copy"), SubtitleMap(stream="5", codec="srt")),
        attachments=("6", "7"),
        attachment_count=2,
        covers=(Cover(index=8, filename="cover.png", mimetype="image/png"),),
    )
    argv = commands.mux_argv(
        "FFMPEG", "/in/a.mp4", "video.mkv", ["00.mka"], "muxed.mkv",
        video_tags=commands.StreamTags(disposition="default"), audio_tags=[commands.StreamTags(disposition="0")],
        carry=carried, cover_files=["covers/08-cover.png"], attach_json="drapto-chunks.json",
    )  # fmt: skip
    assert argv == snapshot


def test_check_output_counts_what_ffmpeg_reads_in_the_output():
    listing = parse_listing((FIXTURES / "assfontcover.mkv.txt").read_text())
    # MediaInfo's counts are not used when the output's listing was read
    output = MediaInfo(path="o.mkv", container="Matroska", duration=2.0, video=VIDEO, listing=listing)
    assert output_counts(output) == (1, 0, 2)
    expect = plan_standard(media("assfontcover.mkv"), Config(), ffmpeg="FF", output=Path("/o/a.mkv")).expect
    problems = check_output(expect, output, "yuv420p10le")
    assert not [p for p in problems if "subtitle" in p or "chapter" in p or "attachment" in p]


# --- real encodes ----------------------------------------------------------------------------------------

SRT = "1\n00:00:00,200 --> 00:00:00,900\nHello\n\n2\n00:00:01,000 --> 00:00:01,800\nWorld\n"
CHAPTERS = (
    ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=One\n"
    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=Two\n"
)
SCC = (
    "Scenarist_SCC V1.0\n\n00:00:00;12\t9420 9420 94ae 94ae 9452 9452 97a1 97a1 c8e5 ecec ef80 942c 942c "
    "942f 942f\n\n00:00:01;12\t942c 942c\n"
)


def pgs(events: list[tuple[float, float]], width: int = 160, height: int = 90) -> bytes:
    """A PGS (.sup) stream drawing one filled box per event: the bitmap subtitle source ffmpeg can then
    re-encode as VobSub and DVB (it cannot draw text into bitmaps)."""

    def segment(pts: int, kind: int, payload: bytes) -> bytes:
        return b"PG" + struct.pack(">IIBH", pts, 0, kind, len(payload)) + payload

    w, h, x, y = 32, 8, 64, 70
    out = b""
    for n, (start, end) in enumerate(events):
        shown, cleared = int(start * 90000), int(end * 90000)
        rle = (bytes([1]) * w + b"\0\0") * h
        out += segment(
            shown, 0x16, struct.pack(">HHBHBBBBHBBHH", width, height, 0x10, 2 * n, 0x80, 0, 0, 1, 0, 0, 0, x, y)
        )
        out += segment(shown, 0x17, struct.pack(">BBHHHH", 1, 0, x, y, w, h))
        out += segment(shown, 0x14, bytes([0, 0, 1, 235, 128, 128, 255]))
        data = struct.pack(">HBB", 0, 0, 0xC0) + (len(rle) + 4).to_bytes(3, "big") + struct.pack(">HH", w, h) + rle
        out += segment(shown, 0x15, data)
        out += segment(shown, 0x80, b"")
        out += segment(cleared, 0x16, struct.pack(">HHBHBBBB", width, height, 0x10, 2 * n + 1, 0, 0, 0, 0))
        out += segment(cleared, 0x17, struct.pack(">BBHHHH", 1, 0, x, y, w, h))
        out += segment(cleared, 0x80, b"")
    return out


def make(ffmpeg: str, folder: Path, name: str, extra_inputs: list[str], args: list[str]) -> Path:
    """A 2 s 160x90 clip with a tone, plus the given inputs and output options."""
    target = folder / name
    argv = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=s=160x90:r=24:d=2", "-f", "lavfi", "-i", "sine=d=2",
        *extra_inputs, "-map", "0", "-map", "1", "-c:v", "libx264", "-preset", "ultrafast", *args, str(target),
    ]  # fmt: skip
    subprocess.run(argv, check=True)
    return target


def mediainfo(path: Path) -> dict:
    return json.loads(LibMediaInfo.parse(path, output="JSON", full=True))


def tracks(path: Path, kind: str) -> list[dict]:
    return [t for t in mediainfo(path)["media"]["track"] if t["@type"] == kind]


def encode(source: Path, out: Path, *flags: str) -> tuple[Path, list[str]]:
    done = run_drapto("encode", source, out, "--preset", "12", "--json", *flags)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    notices = [e["message"] for e in json_events(done.stdout) if e["event"] == "notice"]
    notices = [n for n in notices if "LARGER" not in n and "saving" not in n and "capped by size" not in n]
    return out / f"{source.stem}.mkv", notices


def packet_bytes(ffmpeg: str, path: Path, index: int) -> bytes:
    argv = [ffmpeg, "-v", "error", "-i", str(path), "-map", f"0:{index}", "-c", "copy", "-f", "data", "-"]
    return subprocess.run(argv, check=True, capture_output=True).stdout


@pytest.fixture
def shapes(ffmpeg, tmp_path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "subs.srt").write_text(SRT)
    (folder / "chapters.txt").write_text(CHAPTERS)
    (folder / "subs.sup").write_bytes(pgs([(0.2, 0.9), (1.0, 1.8)]))
    (folder / "cc.scc").write_text(SCC)
    for ext in ("jpg", "png"):
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "1",
             str(folder / f"cover.{ext}")], check=True,
        )  # fmt: skip
    return folder


def test_mp4_with_timed_text_and_chapters_keeps_both(ffmpeg, shapes, tmp_path):
    source = make(
        ffmpeg, shapes, "text.mp4", ["-i", str(shapes / "subs.srt"), "-i", str(shapes / "chapters.txt")],
        ["-map", "2", "-map_chapters", "3", "-c:a", "aac", "-c:s", "mov_text"],
    )  # fmt: skip
    assert len(tracks(source, "Menu")) == 2  # what made validation refuse it: 4 chapters by MediaInfo
    output, notices = encode(source, tmp_path / "out", "--standard")
    assert [t["Format"] for t in tracks(output, "Text")] == ["UTF-8"]
    menu = tracks(output, "Menu")
    assert len(menu) == 1 and len([k for k in menu[0]["extra"] if k.startswith("_")]) == 2
    assert notices == ["Not carried into the Matroska output (Matroska cannot hold it): "
                       "stream 3 (the QuickTime chapter track; its chapters are kept)"]  # fmt: skip


@pytest.mark.parametrize("ext, mimetype", [("jpg", "image/jpeg"), ("png", "image/png")])
def test_mp4_cover_art_becomes_a_matroska_cover_attachment(ffmpeg, shapes, tmp_path, ext, mimetype):
    source = make(
        ffmpeg, shapes, f"cover-{ext}.mp4", ["-i", str(shapes / f"cover.{ext}")],
        ["-map", "2", "-c:a", "aac", "-c:v:1", "copy", "-disposition:v:1", "attached_pic"],
    )  # fmt: skip
    output, notices = encode(source, tmp_path / "out", "--standard")
    general = tracks(output, "General")[0]
    assert general["extra"]["Attachments"] == f"cover.{ext}" and general["Cover"] == "Yes"
    assert len(tracks(output, "Video")) == 1  # the cover is no video track
    listing = parse_listing(
        subprocess.run([ffmpeg, "-hide_banner", "-i", str(output)], capture_output=True, text=True).stderr
    )
    cover = next(s for s in listing.streams if s.attached_pic)
    assert packet_bytes(ffmpeg, output, cover.index) == (shapes / f"cover.{ext}").read_bytes()
    assert (
        mimetype in subprocess.run([ffmpeg, "-hide_banner", "-i", str(output)], capture_output=True, text=True).stderr
    )
    assert notices == []


def test_matroska_ass_font_and_cover_are_all_kept_chunked(ffmpeg, shapes, tmp_path):
    ass = shapes / "subs.ass"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(shapes / "subs.srt"), str(ass)], check=True)
    font = shapes / "font.ttf"
    font.write_bytes(b"\0\1\0\0" + bytes(range(256)) * 4)
    source = make(
        ffmpeg, shapes, "ass.mkv", ["-i", str(ass)],
        ["-map", "2", "-c:a", "aac", "-c:s", "copy",
         "-attach", str(font), "-metadata:s:t:0", "mimetype=application/x-truetype-font",
         "-attach", str(shapes / "cover.jpg"), "-metadata:s:t:1", "mimetype=image/jpeg",
         "-metadata:s:t:1", "filename=cover_land.jpg"],
    )  # fmt: skip
    output, notices = encode(source, tmp_path / "out", "--chunked")
    general = tracks(output, "General")[0]
    assert general["extra"]["Attachments"] == "font.ttf / cover_land.jpg / drapto-chunks.json"
    assert [t["Format"] for t in tracks(output, "Text")] == ["ASS"]
    assert notices == []


def test_bitmap_subtitles_are_copied(ffmpeg, shapes, tmp_path):
    sup = ["-fix_sub_duration", "-i", str(shapes / "subs.sup")]
    pgs_mkv = make(ffmpeg, shapes, "pgs.mkv", sup, ["-map", "2", "-c:a", "aac", "-c:s", "copy"])
    vobsub = make(ffmpeg, shapes, "vobsub.mkv", sup, ["-map", "2", "-c:a", "aac", "-c:s", "dvdsub"])
    dvb = make(ffmpeg, shapes, "dvb.ts", sup, ["-map", "2", "-c:a", "mp2", "-c:s", "dvbsub"])
    for source, expected in ((pgs_mkv, "PGS"), (vobsub, "VobSub"), (dvb, "DVB Subtitle")):
        output, notices = encode(source, tmp_path / source.suffix[1:], "--standard")
        assert [t["Format"] for t in tracks(output, "Text")] == [expected], source
        assert notices == []


def test_mov_captions_become_srt_and_a_timecode_track_is_named_in_one_notice(ffmpeg, shapes, tmp_path):
    source = make(
        ffmpeg, shapes, "cc.mov", ["-i", str(shapes / "cc.scc")],
        ["-map", "2", "-c:a", "aac", "-c:s", "copy", "-timecode", "01:00:00:00"],
    )  # fmt: skip
    output, notices = encode(source, tmp_path / "out", "--standard")
    assert [t["Format"] for t in tracks(output, "Text")] == ["UTF-8"]
    assert len(notices) == 1 and "timecode track" in notices[0]


def test_a_ts_data_stream_is_named_not_fatal(ffmpeg, shapes, tmp_path):
    mp4 = make(ffmpeg, shapes, "chap.mp4", ["-i", str(shapes / "chapters.txt")], ["-map_chapters", "2", "-c:a", "aac"])
    source = shapes / "data.ts"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(mp4), "-map", "0", "-c", "copy", "-f", "mpegts", str(source)],
        check=True,
    )
    output, notices = encode(source, tmp_path / "out", "--standard")
    assert notices == ["Not carried into the Matroska output (Matroska cannot hold it): stream 2 (data, bin_data)"]
    assert len(tracks(output, "Video")) == 1

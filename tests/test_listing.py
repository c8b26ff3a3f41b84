"""ffmpeg's stream listing, parsed: fixtures are `ffmpeg -i FILE` stderr of sources made with the embedded
ffmpeg (a rotated phone MP4, an MPEG-TS, delayed audio in MKV, MP4 cover art with chapters, 576i)."""

from __future__ import annotations

from pathlib import Path

from drapto.core.listing import parse_listing

FIXTURES = Path(__file__).parent / "fixtures" / "listing"


def listing(name: str):
    return parse_listing((FIXTURES / f"{name}.txt").read_text())


def test_rotation_is_read_from_the_display_matrix():
    video = listing("rot.mp4").main_video()
    assert video is not None and video.rotation == 90


def test_each_stream_start_is_counted_from_the_file_start():
    ts = listing("off.ts")
    assert ts.start == 1.4
    assert [round(ts.stream_start(s) or 0, 6) for s in ts.streams] == [0.0, 0.476778]
    mkv = listing("delay.mkv")
    assert [mkv.stream_start(s) for s in mkv.streams] == [0.0, 0.5]


def test_cover_art_is_an_attached_picture_not_the_main_video():
    cover = listing("cover.mp4")
    assert cover.chapters == (0.0, 2.0)
    kinds = [(s.kind, s.codec, s.attached_pic) for s in cover.streams]
    assert kinds == [
        ("video", "h264", False),
        ("audio", "aac", False),
        ("data", "bin_data", False),
        ("data", "bin_data", False),
        ("video", "mjpeg", True),
    ]
    assert cover.main_video() == cover.streams[0]


def test_field_order_is_read_from_the_pixel_format():
    assert listing("inter.mkv").streams[0].field_order == "tff"
    assert listing("delay.mkv").streams[0].field_order == "progressive"
    assert listing("rot.mp4").streams[0].rotation == 90

"""The MediaInfo JSON parser (pure) and the probe against real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from drapto.core.media import Chapter, parse_mediainfo_json
from drapto.errors import InputError
from drapto.graph.probe import probe, require_video

FIXTURES = Path(__file__).parent / "fixtures" / "mediainfo"


def test_parses_every_stream_kind_from_a_fixture():
    info = parse_mediainfo_json((FIXTURES / "sdr-2audio-srt-chapters-attachment.json").read_bytes(), "film.mkv")
    assert info.container == "Matroska"
    assert info.title == "Test Movie"
    assert info.duration == pytest.approx(2.5)
    video = info.video[0]
    assert (video.codec, video.width, video.height) == ("AVC", 320, 180)
    assert video.frame_rate == "24000/1001"
    assert video.frame_count == 48
    assert (video.bit_depth, video.chroma_subsampling, video.color_range) == (8, "4:2:0", "Limited")
    assert [(a.channels, a.language, a.title, a.default) for a in info.audio] == [
        (6, "eng", "Surround", True),
        (1, "fra", None, False),
    ]
    assert [(t.codec, t.language, t.forced) for t in info.text] == [("UTF-8", "eng", True)]
    assert info.chapters == (Chapter(start=0.0, title="Opening"), Chapter(start=1.0, title="Ending"))
    assert info.attachments == ("font.ttf",)


def test_empty_or_foreign_json_gives_an_empty_media():
    info = parse_mediainfo_json(b'{"media": null}', "x")
    assert (info.video, info.audio, info.text, info.chapters) == ((), (), (), ())


def test_probe_of_a_generated_clip(make_clip):
    info = require_video(probe(make_clip()))
    assert info.video[0].width == 320
    assert [a.channels for a in info.audio] == [6, 2]
    assert len(info.text) == 1 and len(info.chapters) == 2


def test_text_file_named_mkv_is_not_media(tmp_path):
    fake = tmp_path / "notes.mkv"
    fake.write_text("not a film\n")
    with pytest.raises(InputError, match="No video stream"):
        require_video(probe(fake))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        probe(tmp_path / "missing.mkv")


def test_real_dolby_vision_sample_is_probed():
    sample = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dolby-vision-p8.1-hdr10-256x144.mkv"
    if not sample.exists():
        pytest.skip("../shared/data is not beside the repository")
    video = probe(sample).video[0]
    assert (video.width, video.height, video.bit_depth) == (256, 144, 10)
    assert video.hdr_format and "Dolby Vision" in video.hdr_format
    assert (video.color_primaries, video.transfer) == ("BT.2020", "PQ")
    assert video.max_cll == "1000 cd/m2"

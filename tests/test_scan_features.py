"""The scene scan's free features: the source's packet size for every frame, read by stream copy in the
same ffmpeg process as the scan."""

from __future__ import annotations

import pytest
from conftest import ClipSpec, multi_scene_graph

from drapto.core.scenes import packet_sizes
from drapto.graph.probe import probe
from drapto.graph.scenescan import scan_scenes

LISTING = """#tb 0: 1/1000
0,          0,          0,       42,     9000, 0x1
0,         42,        125,       42,      300, 0x2
0,         83,         42,       42,      500, 0x3
0,        125,         83,       42,      700, 0x4
"""


def test_packets_pair_with_frames_in_presentation_order():
    assert packet_sizes(LISTING, (0.0, 0.042, 0.083, 0.125)) == (9000, 500, 700, 300)


def test_with_a_different_count_each_frame_takes_the_nearest_packet():
    assert packet_sizes(LISTING, (0.0, 0.043, 0.124)) == (9000, 500, 300)
    assert packet_sizes("", (0.0, 0.042)) == ()


@pytest.mark.ffmpeg
def test_the_scan_lists_every_frames_packet_size(make_clip, ffmpeg, tmp_path):
    clip = make_clip(ClipSpec(duration=3.0, rate="24", video_graph=multi_scene_graph(160, 90, "24", 1.0), audio=()))
    media = probe(clip)
    scan = scan_scenes(ffmpeg, str(clip), media.video[0], None, tmp_path)
    assert len(scan.frame_bytes) == scan.frames == 72
    assert all(size > 0 for size in scan.frame_bytes)
    grain = sum(scan.frame_bytes[48:]) / 24  # the grain scene costs its encoder most per frame
    assert grain > sum(scan.frame_bytes[1:24]) / 23

"""The chunked plan: snapshots pin every new argv (scene scan, chunk encode with its scoring, concat,
mux with the results attached); the mode and target rules are checked directly. Pure."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from test_plan import AUDIO, CHAPTERS, TEXT

from drapto.core import commands, scouting
from drapto.core.config import Config
from drapto.core.hdr import classify
from drapto.core.media import MediaInfo, VideoStream
from drapto.core.plan import effective_mode, plan_chunked, plan_standard, target_vmaf
from drapto.core.plantext import render_plan
from drapto.core.scenes import SceneScan
from drapto.core.tries import try_argv, try_name
from drapto.core.workers import Budget

RATE = 24000 / 1001
OUTPUT = Path("/out/In the Mood for Love (2000).mkv")
BUDGET = Budget(cores=8, memory_gb=24)
HDR10 = dict(
    color_primaries="BT.2020", transfer="PQ", matrix="BT.2020 non-constant", color_range="Limited",
    mastering_display_luminance="min: 0.0050 cd/m2, max: 1000 cd/m2", max_cll="1000 cd/m2",
)  # fmt: skip
DV = dict(
    HDR10, hdr_format="Dolby Vision, Version 1.0, Profile 8.1, dvhe.08.06, BL+RPU, HDR10 compatible / SMPTE ST 2086"
)


def scan(frames: int = 1000, cuts: tuple[int, ...] = (300, 600)) -> SceneScan:
    scores = [0.4] * frames
    for cut in cuts:
        scores[cut] = 30.0
    return SceneScan(
        frames=frames, duration=frames / RATE, times=tuple(i / RATE for i in range(frames)), scores=tuple(scores),
        keyframes=tuple(range(0, frames, 48)),
    )  # fmt: skip


def media(width: int = 1920, height: int = 1080, **video: str) -> MediaInfo:
    return MediaInfo(
        path="/films/In the Mood for Love (2000).mkv",
        container="Matroska",
        duration=1000 / RATE,
        video=(VideoStream(index=0, codec="AVC", width=width, height=height, frame_rate="24000/1001", **video),),
        audio=AUDIO["mixed"],
        text=TEXT,
        chapters=CHAPTERS,
        attachments=("font.ttf",),
    )


def chunked(info: MediaInfo, config: Config = Config(), crop: str | None = None):
    return plan_chunked(info, config, ffmpeg="ffmpeg", output=OUTPUT, scan=scan(), budget=BUDGET, crop=crop)


def first_tries(plan) -> list[list[str]]:
    return [try_argv(u, u.start_crf, f"{try_name(u.start_crf)}.mkv.partial") for u in plan.chunks]


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080), (3840, 2160)])
def test_chunk_encode_argv_by_size(width, height, snapshot):
    # first chunk (no seek), middle chunk (seek and stop), last chunk (no stop)
    assert first_tries(chunked(media(width, height))) == snapshot


@pytest.mark.parametrize(
    ("width", "height", "scale"), [(720, 1280, "auto"), (720, 480, "none"), (720, 480, "1280x720")]
)
def test_chunk_encode_argv_by_vmaf_scale(width, height, scale, snapshot):
    """Portrait is upscaled as landscape turned; none scores at the picture's own size; WxH at that size."""
    assert first_tries(chunked(media(width, height), Config(vmaf_scale=scale)))[0] == snapshot


def test_chunk_encode_argv_hdr10_cropped_with_options(snapshot):
    config = Config(preset=4, film_grain=8, film_grain_denoise=True, vmaf_every=1, vmaf_pool="p5", target_vmaf=96)
    plan = chunked(media(3840, 2160, **HDR10), config, crop="3840:1600:0:280")
    assert first_tries(plan)[1] == snapshot


def test_chunk_encode_argv_dolby_vision_when_forced(snapshot):
    plan = chunked(media(**DV), Config(mode="chunked"))
    assert first_tries(plan)[0] == snapshot


def test_scene_scan_argv(snapshot):
    assert [
        commands.scene_scan_argv("ffmpeg", "/films/a film.mkv", crop=None, scan_width=None, frames_log="frames.txt",
                                 keyframes_log="keyframes.txt", packets_log="packets.txt"),
        commands.scene_scan_argv("ffmpeg", "/films/a film.mkv", crop="1920:800:0:140", scan_width=480,
                                 frames_log="frames.txt", keyframes_log="keyframes.txt", packets_log="packets.txt"),
    ] == snapshot  # fmt: skip


def test_concat_mux_and_packet_read_argv(snapshot):
    plan = chunked(media())
    steps = {step.name: list(step.argv) for step in plan.steps}
    assert {
        "concat": steps["concat"],
        "mux": steps["mux"],
        "packet_read": commands.packet_read_argv("ffmpeg", "/out/x.mkv"),
        "list": commands.concat_list([("0000.mkv", 12.512500), ("0001.mkv", 16.683333)]),
    } == snapshot


def test_concat_list_refuses_anything_but_plain_names():
    with pytest.raises(ValueError):
        commands.concat_list([("../x'\n.mkv", 1.0)])


def test_plan_text(snapshot):
    plan = chunked(media())
    from drapto.core.crop import CropAnalysis, CropDecision

    crop = CropAnalysis(
        setting="none", limit="", samples=(), decision=CropDecision(crop=None, reason="off", samples=0, candidates=())
    )
    assert render_plan(plan, crop, str(OUTPUT), {}) == snapshot


def test_chunks_follow_the_scan_and_carry_the_search():
    plan = chunked(media())
    assert [(u.chunk.start, u.chunk.end, u.chunk.cut) for u in plan.chunks] == [
        (0, 300, "start"), (300, 600, "scene"), (600, 800, "scene"), (800, 1000, "split"),
    ]  # fmt: skip
    assert plan.expect.frames == 1000
    assert plan.expect.attachments == 2  # the source's font plus drapto-chunks.json
    assert plan.target_vmaf == 93.0
    assert {u.search.target for u in plan.chunks} == {93.0}
    assert plan.workers == 2  # 8 cores, four threads per worker
    assert all(":lp=4" in u.encode.svt for u in plan.chunks)
    assert [step.name for step in plan.steps] == ["concat", "audio-00", "audio-01", "audio-02", "mux"]
    assert msgspec.json.decode(msgspec.json.encode(plan.chunks[0]), type=type(plan.chunks[0])) == plan.chunks[0]


@pytest.mark.parametrize(
    ("video", "mode", "expected_mode", "expected_target"),
    [
        ({}, "auto", "chunked", 93.0),
        (HDR10, "auto", "chunked", 95.0),
        (DV, "auto", "standard", 95.0),  # Dolby Vision: standard unless asked
        (DV, "chunked", "chunked", 95.0),
        ({}, "standard", "standard", 93.0),
    ],
)
def test_mode_and_target(video, mode, expected_mode, expected_target):
    colour = classify(media(**video).video[0])
    config = Config(mode=mode)
    assert effective_mode(config, colour) == expected_mode
    assert target_vmaf(config, colour) == expected_target
    assert target_vmaf(Config(target_vmaf=90), colour) == 90


def test_standard_plan_is_unchanged_by_the_chunked_settings():
    plain = plan_standard(media(), Config(), ffmpeg="ffmpeg", output=OUTPUT)
    tuned = plan_standard(media(), Config(target_vmaf=97, workers=3), ffmpeg="ffmpeg", output=OUTPUT)
    assert plain == tuned and plain.mode == "standard"


def test_chunks_wait_for_the_scouts_only_where_the_band_can_be_out_of_reach():
    """The settling rule needs scouts only for a picture below 720p scored upscaled, a target above 95 or a
    CRF range starting above 20 (reach.may_settle); elsewhere no chunk waits, so no core idles for them."""
    many = scan(3000, tuple(range(200, 3000, 200)))

    def waiting(info: MediaInfo, config: Config = Config()) -> int:
        plan = plan_chunked(info, config, ffmpeg="ffmpeg", output=OUTPUT, scan=many, budget=BUDGET)
        assert len(plan.chunks) > 3
        return len(scouting.scouts(plan.chunks))

    assert waiting(media(1920, 1080)) == 0
    assert waiting(media(1280, 720)) == 0
    assert waiting(media(640, 360)) == 3  # scored upscaled to 1080p: may be out of reach
    assert waiting(media(640, 360), Config(vmaf_scale="none")) == 0
    assert waiting(media(1920, 1080), Config(target_vmaf=97)) == 3
    assert waiting(media(1920, 1080), Config(crf_min=25)) == 3

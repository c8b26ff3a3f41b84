"""The picture's shape, the pure half (drapto/core/picture.py): idet's printout, the field verdict from the
flag and idet (with the counts measured on ffmpeg 9.0.2), the treatment, the filter chain, the displayed
size and inverse telecine's frame count."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drapto.core.chunks import plan_chunks, read_from, with_neighbours
from drapto.core.listing import ListedStream, Listing
from drapto.core.media import MediaInfo, VideoStream
from drapto.core.picture import (
    BWDIF,
    Idet,
    decide_fields,
    displayed_size,
    field_filter,
    judge_fields,
    output_frames,
    parse_idet,
    sum_idet,
    video_filters,
)
from drapto.core.scenes import SceneScan

# What `-vf idet,cropdetect` printed for one 10-frame sample of the telecined 320x240 source: an empty
# printout from a graph ffmpeg configured and dropped, then the real one.
IDET_STDERR = """\
[Parsed_idet_0 @ 0x55d5370ac580] Repeated Fields: Neither:     0 Top:     0 Bottom:     0
[Parsed_idet_0 @ 0x55d5370ac580] Single frame detection: TFF:     0 BFF:     0 Progressive:     0 Undetermined:     0
[Parsed_idet_0 @ 0x55d5370ac580] Multi frame detection: TFF:     0 BFF:     0 Progressive:     0 Undetermined:     0
[Parsed_cropdetect_1 @ 0x7f] x1:0 x2:319 y1:0 y2:239 w:320 h:240 x:0 y:0 pts:0 t:0.000000 limit:0.062745 crop=320:240:0:0
[Parsed_idet_0 @ 0x7fcc34001a40] Repeated Fields: Neither:     7 Top:     2 Bottom:     2
[Parsed_idet_0 @ 0x7fcc34001a40] Single frame detection: TFF:     3 BFF:     0 Progressive:     5 Undetermined:     3
[Parsed_idet_0 @ 0x7fcc34001a40] Multi frame detection: TFF:    10 BFF:     0 Progressive:     0 Undetermined:     1
"""

WOVEN = Idet(tff=22, repeated_neither=22)  # 50p woven into 25i, 2 samples
TELECINED = Idet(tff=20, undetermined=2, repeated_top=4, repeated_bottom=4, repeated_neither=14)
TESTSRC2_160 = Idet(tff=47, bff=25, repeated_neither=72)  # progressive testsrc2 at 160x120, whole clip
TESTSRC2_720 = Idet(tff=26, bff=20, progressive=26, repeated_neither=72)  # the same at 1280x720
TESTSRC2_SAMPLED = Idet(tff=22, repeated_neither=22)  # testsrc2 160x120, 3 s: the crop samples read TFF
PROGRESSIVE = Idet(progressive=20, undetermined=2, repeated_neither=22)
UNSURE = Idet(undetermined=22, repeated_neither=22)


def test_parse_idet_reads_the_last_printout():
    assert parse_idet(IDET_STDERR) == Idet(
        tff=10, bff=0, progressive=0, undetermined=1, repeated_top=2, repeated_bottom=2, repeated_neither=7
    )
    assert parse_idet("crop=320:240:0:0") is None


def test_sum_idet_adds_the_samples_and_skips_the_silent():
    assert sum_idet([WOVEN, None, WOVEN]) == Idet(tff=44, repeated_neither=44)
    assert sum_idet([None, None]) is None


def test_measured_sources_get_their_verdicts():
    assert judge_fields("tff", WOVEN)[0] == "interlaced"
    # woven but flagged progressive reads exactly as testsrc2 does: idet alone cannot tell them apart
    assert WOVEN == TESTSRC2_SAMPLED and judge_fields("progressive", WOVEN)[0] == "progressive"
    assert judge_fields("tff", TELECINED)[:2] == ("telecined", "tff")
    assert judge_fields("progressive", TELECINED)[0] == "telecined"  # hard telecine coded progressive
    assert judge_fields("tff", PROGRESSIVE)[0] == "progressive"  # progressive content coded interlaced
    assert judge_fields("tff", UNSURE)[0] == "interlaced"  # idet cannot tell: the flag stands
    assert judge_fields("bff", None)[:2] == ("interlaced", "bff")
    for synthetic in (TESTSRC2_160, TESTSRC2_720, TESTSRC2_SAMPLED, UNSURE, PROGRESSIVE):
        assert judge_fields("progressive", synthetic)[0] == "progressive"
        assert judge_fields(None, synthetic)[0] == "progressive"


counts = st.integers(min_value=0, max_value=2000)


@given(tff=counts, bff=counts, progressive=counts, undetermined=counts, top=counts, bottom=counts)
def test_idet_alone_makes_an_unflagged_source_telecined_or_nothing(tff, bff, progressive, undetermined, top, bottom):
    idet = Idet(
        tff=tff, bff=bff, progressive=progressive, undetermined=undetermined, repeated_top=top, repeated_bottom=bottom
    )
    for flag in ("progressive", None):
        found, _, _ = judge_fields(flag, idet)
        assert found in ("progressive", "telecined")
        if found == "telecined":
            assert top >= 0.1 * idet.frames and bottom >= 0.1 * idet.frames and tff + bff > progressive
    if top == bottom == 0:  # no repeated fields: idet's verdicts never overrule the progressive flag
        assert judge_fields("progressive", idet)[0] == "progressive"


def test_the_setting_and_a_rotation_decide_the_treatment():
    assert decide_fields("auto", "tff", WOVEN).treatment == "bwdif"
    assert decide_fields("auto", "tff", TELECINED).treatment == "ivtc"
    assert decide_fields("auto", None, PROGRESSIVE).treatment == "none"
    assert decide_fields("off", "tff", WOVEN).treatment == "none"
    assert decide_fields("bwdif", None, PROGRESSIVE).treatment == "bwdif"
    assert decide_fields("ivtc", None, PROGRESSIVE).treatment == "ivtc"
    rotated = decide_fields("auto", "tff", WOVEN, rotation=90)
    assert rotated.treatment == "none" and "rotated" in rotated.reason


def test_the_chain_treats_the_fields_before_the_crop():
    woven = decide_fields("auto", "tff", WOVEN)
    assert video_filters("300:200:10:20", woven) == f"{BWDIF},crop=300:200:10:20"
    assert video_filters(None, woven) == BWDIF
    assert video_filters("300:200:10:20", decide_fields("auto", None, PROGRESSIVE)) == "crop=300:200:10:20"
    assert video_filters(None, None) is None
    forced = decide_fields("bwdif", "progressive", Idet(bff=22, repeated_neither=22))  # woven BFF, flagged progressive
    assert video_filters(None, forced) == BWDIF.replace("parity=auto", "parity=bff")
    ivtc = field_filter("ivtc", "bff")
    assert ivtc is not None and ivtc.startswith("fieldmatch=order=bff:") and ivtc.endswith(",decimate")


@given(st.integers(min_value=0, max_value=10**6))
def test_inverse_telecine_drops_one_frame_per_whole_cycle(frames):
    assert output_frames(frames, "none") == output_frames(frames, "bwdif") == frames
    kept = output_frames(frames, "ivtc")
    assert kept == frames - frames // 5 and kept * 5 >= frames * 4


def test_measured_decimate_counts():
    assert [output_frames(n, "ivtc") for n in (81, 84, 85, 86, 89, 90)] == [65, 68, 68, 69, 72, 72]


def _media(rotation: int) -> MediaInfo:
    listing = Listing(start=0.0, streams=(ListedStream(index=0, kind="video", codec="h264", rotation=rotation),))
    video = VideoStream(index=0, codec="AVC", width=640, height=360)
    return MediaInfo(path="x.mp4", container="MPEG-4", duration=3.0, video=(video,), listing=listing)


def test_a_quarter_turn_swaps_the_displayed_size():
    assert displayed_size(_media(0)) == displayed_size(_media(180)) == (640, 360)
    assert displayed_size(_media(90)) == displayed_size(_media(270)) == (360, 640)


@given(
    st.lists(st.floats(min_value=0, max_value=40), min_size=30, max_size=400),
    st.integers(min_value=0, max_value=3),
)
def test_neighbours_widen_each_read_and_keep_exactly_the_chunk(scores, frames):
    rate = 25.0
    scan = SceneScan(
        frames=len(scores), duration=len(scores) / rate, times=tuple(i / rate for i in range(len(scores))),
        scores=tuple(scores), keyframes=(0,),
    )  # fmt: skip
    chunks = plan_chunks(scan, min_seconds=0.4, max_seconds=1.0, threshold=20.0)
    widened = with_neighbours(scan, chunks, frames)
    assert len(widened) == len(chunks)
    for plain, wide in zip(chunks, widened, strict=True):
        assert (wide.start, wide.end) == (plain.start, plain.end)
        assert wide.lead == min(frames, plain.start) and wide.tail == min(frames, scan.frames - plain.end)
        assert wide.read == plain.frames + wide.lead + wide.tail
        # the read starts from the keyframe at or before the first frame read (chunks.read_from), the stop
        # halfway after the last
        first, last = plain.start - wide.lead, plain.end + wide.tail
        assert (wide.seek, wide.skip) == read_from(scan, first)
        assert wide.stop == (None if last >= scan.frames else (scan.times[last - 1] + scan.times[last]) / 2)
        reads_more = wide.lead or wide.tail
        assert wide.keep == ((wide.lead, wide.lead + plain.frames) if reads_more else None)


@given(st.lists(st.floats(min_value=0, max_value=40), min_size=6, max_size=400))
def test_inverse_telecine_chunks_start_on_whole_cycles_and_add_up(scores):
    rate = 30000 / 1001
    scan = SceneScan(
        frames=len(scores), duration=len(scores) / rate, times=tuple(i / rate for i in range(len(scores))),
        scores=tuple(scores), keyframes=(0,),
    )  # fmt: skip
    chunks = with_neighbours(scan, plan_chunks(scan, min_seconds=0.4, max_seconds=1.0, threshold=20.0, cycle=5), 5)
    assert chunks[0].start == 0 and chunks[-1].end == scan.frames
    assert all(a.end == b.start for a, b in zip(chunks, chunks[1:], strict=False))
    assert all(c.start % 5 == 0 and c.frames > 0 and c.probe is None and c.cycle == 5 for c in chunks)
    assert all(c.lead == min(5, c.start) and c.tail == min(5, scan.frames - c.end) for c in chunks)
    assert sum(c.encoded for c in chunks) == output_frames(scan.frames, "ivtc")
    for chunk in chunks:
        if chunk.keep is not None:  # the lead's whole cycle leaves 4 frames, then the chunk's own
            assert chunk.keep == (chunk.lead - chunk.lead // 5, chunk.lead - chunk.lead // 5 + chunk.encoded)

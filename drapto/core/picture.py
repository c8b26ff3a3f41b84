"""The picture as seen: its displayed size and rotation, how its fields are treated, and the video filter
chain every decoding command applies before the encoder or the VMAF reference sees a frame. Pure.

Rotation. A display matrix (a phone held upright) is turned by ffmpeg itself: its autorotate is on in
every decoding command drapto runs, and puts the turn (`transpose`, or `hflip,vflip`) ahead of any filter
drapto adds, so cropdetect, the scan, the encode and the VMAF reference all see the picture as displayed,
and the encode carries no matrix (measured on ffmpeg 9.0.2: a 640x360 H.264 with a 90° matrix encodes to
360x640 with the sample aspect turned and no matrix). An explicit `transpose` with `-noautorotate` instead
turns the pixels AND writes the 90° matrix into the Matroska output (players honouring it would turn the
picture twice), so drapto relies on autorotate. A cluster worker's stream copy of a chunk keeps the matrix
(measured), so the worker turns it too. What drapto must do itself is use the displayed size wherever a
size is compared or chosen: expectations, crop checks, VMAF scoring size, the scan's width, the texts.

Fields. Interlaced and telecined sources are found from two witnesses that both lie at times: the
stream's field-order flag (ffmpeg's listing) and `idet` run on the crop samples (which decode frames spread
over the film). idet misjudges synthetic pictures: progressive `testsrc2` reads TFF on every frame of the
crop samples (11 of 11 on 2 s clips from 160x120 to 640x360, 22 of 22 on 3 s at 160x120), as woven video
does, so idet alone never makes a source interlaced; only its repeated-field pattern (the 3:2 pulldown
signature, which synthetic pictures do not show) makes an unflagged source telecined. Interlaced video is
deinterlaced with `bwdif`, one frame per frame (frame count and times kept); telecined film (3:2 pulldown:
about a fifth of the frames repeat a top field and a fifth a bottom one) is inverse-telecined to
24000/1001 (`fieldmatch`, `bwdif` on what it could not match, `decimate`: one frame of every 5 dropped,
a last partial cycle kept whole).
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from drapto.core.listing import FieldOrder
from drapto.core.media import MediaInfo
from drapto.errors import InputError

Found = Literal["progressive", "interlaced", "telecined"]
Treatment = Literal["none", "bwdif", "ivtc"]
DEINTERLACE_SETTINGS = ("auto", "off", "bwdif", "ivtc")

BWDIF = "bwdif=mode=send_frame:parity=auto:deint=all"
IVTC_RATE = "24000/1001"
IVTC_CYCLE = 5  # decimate drops one frame of every cycle of 5

_MIN_FRAMES = 20  # fewer frames than this (two 10-frame samples) is too little for idet to outvote a flag
# The 3:2 signature: in every 5 frames one repeats a top field and one a bottom field (2 of 5 frames).
_REPEATED_EACH = 0.1
_REPEATED_BOTH = 0.25

_MULTI = re.compile(
    r"Multi frame detection: TFF:\s*(\d+)\s+BFF:\s*(\d+)\s+Progressive:\s*(\d+)\s+Undetermined:\s*(\d+)"
)
_REPEATED = re.compile(r"Repeated Fields: Neither:\s*(\d+)\s+Top:\s*(\d+)\s+Bottom:\s*(\d+)")


class Idet(msgspec.Struct, frozen=True, kw_only=True):
    """idet's multi-frame verdicts and repeated-field counts over the frames it saw."""

    tff: int = 0
    bff: int = 0
    progressive: int = 0
    undetermined: int = 0
    repeated_top: int = 0
    repeated_bottom: int = 0
    repeated_neither: int = 0

    @property
    def frames(self) -> int:
        return self.tff + self.bff + self.progressive + self.undetermined

    def plus(self, other: Idet) -> Idet:
        return Idet(**{f: getattr(self, f) + getattr(other, f) for f in self.__struct_fields__})

    def text(self) -> str:
        """ "TFF 150, BFF 0, progressive 0, undetermined 0 of 150; repeated top 36, bottom 36"."""
        return (
            f"TFF {self.tff}, BFF {self.bff}, progressive {self.progressive}, undetermined {self.undetermined} "
            f"of {self.frames}; repeated top {self.repeated_top}, bottom {self.repeated_bottom}"
        )


class Fields(msgspec.Struct, frozen=True, kw_only=True):
    """What crop.json keeps about the fields: the setting, both witnesses, the verdict and the treatment."""

    setting: str  # auto, off, bwdif or ivtc
    flag: FieldOrder | None  # the stream's field-order flag as ffmpeg's decoder reports it
    idet: Idet | None  # summed over the samples (None: no samples were taken)
    found: Found
    order: Literal["tff", "bff"] = "tff"  # the field order the treatment assumes
    treatment: Treatment
    reason: str


def check_deinterlace_setting(value: str) -> str:
    setting = value.strip().lower()
    if setting in DEINTERLACE_SETTINGS:
        return setting
    raise InputError(f"deinterlace must be auto, off, bwdif or ivtc, got {value!r}")


def parse_idet(stderr: str) -> Idet | None:
    """idet's summary from one ffmpeg run's stderr (its last printout: ffmpeg may print an empty one for a
    graph it configured and dropped), or None when idet printed none."""
    multi, repeated = _MULTI.findall(stderr), _REPEATED.findall(stderr)
    if not multi:
        return None
    tff, bff, progressive, undetermined = (int(v) for v in multi[-1])
    neither, top, bottom = (int(v) for v in repeated[-1]) if repeated else (0, 0, 0)
    return Idet(
        tff=tff, bff=bff, progressive=progressive, undetermined=undetermined,
        repeated_top=top, repeated_bottom=bottom, repeated_neither=neither,
    )  # fmt: skip


def sum_idet(counts: list[Idet | None]) -> Idet | None:
    present = [c for c in counts if c is not None]
    if not present:
        return None
    total = present[0]
    for count in present[1:]:
        total = total.plus(count)
    return total


def _telecine_signature(idet: Idet) -> bool:
    frames = idet.frames
    return (
        frames >= _MIN_FRAMES
        and idet.repeated_top >= _REPEATED_EACH * frames
        and idet.repeated_bottom >= _REPEATED_EACH * frames
        and idet.repeated_top + idet.repeated_bottom >= _REPEATED_BOTH * frames
    )


def judge_fields(flag: FieldOrder | None, idet: Idet | None) -> tuple[Found, Literal["tff", "bff"], str]:
    """Whether the picture is progressive, interlaced or telecined, the field order, and why.

    A flagged source (tff/bff) is interlaced unless idet reads more progressive frames than interlaced ones
    (progressive content coded as interlaced); with too little evidence (fewer than 20 frames, or idet
    undecided on 80 % of them) the flag stands. An unflagged source stays progressive whatever idet's
    multi-frame verdicts say (synthetic pictures read as interlaced), unless idet also finds the 3:2
    signature: interlaced verdicts outnumbering progressive ones, and frames repeating a top field and
    frames repeating a bottom field, each at least 10 % of the frames and together at least 25 %. A
    flagged, interlaced source with that signature is telecined too."""
    flagged = flag in ("tff", "bff")
    if idet is None or idet.frames == 0:
        if flagged:
            return "interlaced", flag, f"field flag {flag.upper()}, no idet samples"  # type: ignore[return-value, union-attr]
        return "progressive", "tff", "no interlace flag, no idet samples"
    decided = idet.tff + idet.bff + idet.progressive
    interlaced = idet.tff + idet.bff
    order: Literal["tff", "bff"] = "tff" if idet.tff >= idet.bff else "bff"
    seen = f"idet {idet.text()}"
    if flagged:
        assert flag is not None
        if idet.frames < _MIN_FRAMES or decided < 0.2 * idet.frames:
            verdict = True
            why = f"field flag {flag.upper()}, idet too unsure to overrule it ({seen})"
        else:
            verdict = interlaced >= idet.progressive
            why = f"field flag {flag.upper()}, {seen}"
        order = flag if (idet.tff == idet.bff) else order  # type: ignore[assignment]
    else:
        verdict = interlaced > idet.progressive and _telecine_signature(idet)
        why = f"field flag {flag or 'none'}, {seen}"
    if not verdict:
        return "progressive", order, why
    if _telecine_signature(idet):
        return "telecined", order, why + " (the 3:2 pulldown signature)"
    return "interlaced", order, why


_TREATMENT: dict[Found, Treatment] = {"progressive": "none", "interlaced": "bwdif", "telecined": "ivtc"}


def decide_fields(setting: str, flag: FieldOrder | None, idet: Idet | None, rotation: int = 0) -> Fields:
    """The verdict and what is done: `auto` follows it, `off` never filters, `bwdif` and `ivtc` always do.
    A rotated picture is never deinterlaced by `auto`: ffmpeg turns it before any filter, and turned
    fields are no longer fields (phones do not record interlaced video)."""
    found, order, reason = judge_fields(flag, idet)
    if setting == "off":
        treatment: Treatment = "none"
    elif setting in ("bwdif", "ivtc"):
        treatment = setting  # type: ignore[assignment]
        reason += f"; the deinterlace setting is {setting}"
    elif rotation and found != "progressive":
        treatment = "none"
        reason += "; not deinterlaced: the picture is rotated"
    else:
        treatment = _TREATMENT[found]
    return Fields(setting=setting, flag=flag, idet=idet, found=found, order=order, treatment=treatment, reason=reason)


def field_capabilities(fields: Fields | None, deinterlace: str) -> set[str]:
    """The ffmpeg filters field detection (idet) and the treatment decided, or still to be decided under
    the `deinterlace` setting, need."""
    treatment = fields.treatment if fields else "none"
    needed = {"idet"} if deinterlace == "auto" else set()
    if treatment != "none" or deinterlace != "off":
        needed.add("bwdif")
    if treatment == "ivtc" or deinterlace in ("auto", "ivtc"):
        needed |= {"fieldmatch", "decimate"}
    return needed


def field_filter(treatment: Treatment, order: str = "tff", flagged: bool = True) -> str | None:
    """The filter that makes interlaced or telecined video progressive, or None. bwdif takes each frame's
    field order from its flag (`parity=auto`), which assumes top first on frames flagged progressive: an
    unflagged source (deinterlaced because the setting says so) gets idet's order instead."""
    if treatment == "bwdif":
        return BWDIF if flagged else BWDIF.replace("parity=auto", f"parity={order}")
    if treatment == "ivtc":
        return f"fieldmatch=order={order}:combmatch=full,bwdif=mode=send_frame:parity=auto:deint=interlaced,decimate"
    return None


def video_filters(crop: str | None, fields: Fields | None = None) -> str | None:
    """The chain every decoding command applies to the source's video before anything else it does (after
    ffmpeg's own autorotate): the field treatment first (it needs the fields as they were woven), then
    the crop (in the displayed picture's coordinates, as cropdetect saw it). None when there is nothing."""
    parts = [
        field_filter(fields.treatment, fields.order, fields.flag in ("tff", "bff")) if fields else None,
        f"crop={crop}" if crop else None,
    ]
    chain = ",".join(p for p in parts if p)
    return chain or None


def rotation_of(media: MediaInfo) -> int:
    """The main video's display rotation (0, 90, 180 or 270, counter-clockwise), as ffmpeg will apply it."""
    listing = media.listing
    video = listing.main_video() if listing is not None else None
    return video.rotation if video is not None else 0


def field_flag(media: MediaInfo) -> FieldOrder | None:
    listing = media.listing
    video = listing.main_video() if listing is not None else None
    return video.field_order if video is not None else None


def turned(width: int, height: int, rotation: int) -> tuple[int, int]:
    return (height, width) if rotation % 180 == 90 else (width, height)


def displayed_size(media: MediaInfo) -> tuple[int, int]:
    """The main video's size as displayed (and as every decoding command sees it): stored width and
    height, swapped for a quarter turn."""
    video = media.video[0]
    return turned(video.width, video.height, rotation_of(media))


def rotation_text(rotation: int) -> str | None:
    """What `plan` and `analyze` say of a rotated source, or None."""
    return f"rotated {rotation}°: pixels turned" if rotation else None


def fields_text(fields: Fields | None) -> str | None:
    """ "interlaced (…): deinterlaced with bwdif", for `plan` and `analyze`; None when nothing was judged."""
    if fields is None:
        return None
    done = {
        "none": "kept as it is",
        "bwdif": "deinterlaced with bwdif, one frame per frame",
        "ivtc": f"inverse telecine to {IVTC_RATE} fps (fieldmatch, bwdif, decimate)",
    }[fields.treatment]
    return f"{fields.found} ({fields.reason}): {done}"


def chunk_reading(treatment: Treatment) -> tuple[int, int]:
    """How chunks must be read for the treatment to match a whole-file pass: the source frames read on
    either side (bwdif: 1, a frame's neighbours; inverse telecine: 5, one whole decimate cycle, which
    also feeds fieldmatch its neighbour fields) and the cycle chunk boundaries fall on (0: any frame)."""
    if treatment == "ivtc":
        return IVTC_CYCLE, IVTC_CYCLE
    return (1, 0) if treatment == "bwdif" else (0, 0)


def output_frames(frames: int, treatment: Treatment) -> int:
    """How many frames the encode of `frames` source frames holds: all of them, or with inverse telecine
    one fewer per whole cycle of 5 (decimate keeps a last partial cycle whole: measured 81→65, 84→68,
    85→68, 89→72, 90→72)."""
    return frames - frames // IVTC_CYCLE if treatment == "ivtc" else frames

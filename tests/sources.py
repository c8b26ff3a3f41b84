"""The source shapes a film and TV library holds (issue 23), each made small and short with the embedded
ffmpeg: one function per shape, `make(ffmpeg, folder) -> path`. They exist so the source table
(`test_sources.py`) can prove what drapto does with each shape a user brings, not only with its own clips."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable
from pathlib import Path

Maker = Callable[[str, Path], Path]


def run(ffmpeg: str, *args: str | Path) -> None:
    """One quiet ffmpeg run; a failure raises with ffmpeg's words."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{argv}: {result.stderr}")


def tone(seconds: float, layout: str = "stereo") -> list[str]:
    """A lavfi audio input: a tone, so Opus has something to encode."""
    return [
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate=48000:duration={seconds},aformat=channel_layouts={layout}",
    ]


def picture(size: str, rate: str, seconds: float, source: str = "testsrc2") -> list[str]:
    """A lavfi video input of moving content."""
    return ["-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}:duration={seconds}"]


X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "24"]

SRT = "1\n00:00:00,300 --> 00:00:00,900\nHello\n\n2\n00:00:01,100 --> 00:00:01,700\nWorld\n"

ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 320
PlayResY: 180

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Drapto Test,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.30,0:00:00.90,Default,,0,0,0,,Hello
Dialogue: 0,0:00:01.10,0:00:01.70,Default,,0,0,0,,World
"""


def chapters_file(folder: Path, seconds: float) -> Path:
    """Two chapters, at 0 and at 1 s."""
    path = folder / "chapters.txt"
    path.write_text(
        ";FFMETADATA1\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=Opening\n"
        f"[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND={int(seconds * 1000)}\ntitle=Ending\n"
    )
    return path


def _dvd(ffmpeg: str, folder: Path, name: str, graph: str, sar: str) -> Path:
    target = folder / name
    run(ffmpeg, "-f", "lavfi", "-i", f"{graph},setsar={sar}", *tone(2), "-map", "0:v", "-map", "1:a",
        "-c:v", "mpeg2video", "-b:v", "5M", "-g", "12", "-bf", "2", "-c:a", "ac3", "-b:a", "192k",
        "-f", "dvd", target)  # fmt: skip
    return target


def dvd_anamorphic(ffmpeg: str, folder: Path) -> Path:
    """A DVD's 16:9 picture: MPEG-2 720x576 stored with 64:45 pixels, AC-3 audio, in an MPEG program stream."""
    return _dvd(ffmpeg, folder, "dvd.vob", "testsrc2=size=720x576:rate=25:duration=2", "64/45")


def dvd_letterboxed(ffmpeg: str, folder: Path) -> Path:
    """A 4:3 DVD (16:15 pixels) holding a 16:9 film between black bars: 432 picture lines of 576."""
    graph = "testsrc2=size=720x432:rate=25:duration=2,pad=720:576:0:72"
    return _dvd(ffmpeg, folder, "letterboxed.vob", graph, "16/15")


INTERLACED_FLAGS = ["-flags", "+ilme+ildct"]


def interlaced_576i(ffmpeg: str, folder: Path) -> Path:
    """PAL video shot interlaced: 50 moving fields a second woven top field first into 25 frames (idet reads
    the weave of real motion as interlaced; it misjudges testsrc2's sharp synthetic edges)."""
    target = folder / "576i.mkv"
    graph = "mandelbrot=size=720x576:rate=50,trim=duration=2,format=yuv420p,tinterlace=mode=interleave_top,setfield=tff"
    run(ffmpeg, "-f", "lavfi", "-i", graph, *tone(2), "-map", "0:v", "-map", "1:a",
        "-c:v", "mpeg2video", "-b:v", "6M", "-g", "12", *INTERLACED_FLAGS, "-c:a", "ac3", target)  # fmt: skip
    return target


def telecined_ntsc(ffmpeg: str, folder: Path) -> Path:
    """NTSC film: 23.976 frames a second spread over 29.97 interlaced ones by 3:2 pulldown (`telecine`), in
    interlaced H.264 (from an MPEG-2 copy, fieldmatch's IVTC leaves combs that idet reads as BFF, measured).
    6 s, so the crop samples see enough frames to tell pulldown (2 s gave 11 frames, 2 repeats a field: read
    as plainly interlaced; 6 s at 360x240: 33 frames, 6 + 6 repeats, telecined)."""
    target = folder / "telecined.mkv"
    graph = "mandelbrot=size=360x240:rate=24000/1001,trim=duration=6,format=yuv420p,telecine=first_field=top:pattern=23,setfield=tff"
    run(ffmpeg, "-f", "lavfi", "-i", graph, *tone(6), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
        "-preset", "ultrafast", "-crf", "16", "-flags", "+ilme+ildct", "-c:a", "ac3", target)  # fmt: skip
    return target


def phone_rotated(ffmpeg: str, folder: Path) -> Path:
    """A phone's portrait clip: landscape 320x180 pixels with a display rotation of 90° in the MP4."""
    raw = folder / "raw.mp4"
    run(ffmpeg, *picture("320x180", "30", 2), *tone(2), "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", raw)
    target = folder / "phone.mp4"
    run(ffmpeg, "-display_rotation", "90", "-i", raw, "-map", "0", "-c", "copy", target)
    return target


def variable_frame_rate(ffmpeg: str, folder: Path) -> Path:
    """Variable frame rate: 3 s at 24 fps, then 3 s at 60 fps, in Matroska (millisecond timestamps)."""
    target = folder / "vfr.mkv"
    graph = (
        "testsrc2=size=192x108:rate=24:duration=3[a];testsrc2=size=192x108:rate=60:duration=3[b];"
        "[a][b]concat=n=2:v=1:a=0[out]"
    )
    run(ffmpeg, "-filter_complex", graph, *tone(6), "-map", "[out]", "-map", "0:a", "-fps_mode", "passthrough",
        *X264, "-c:a", "aac", target)  # fmt: skip
    return target


def mp4_text_chapters(ffmpeg: str, folder: Path) -> Path:
    """An MP4 with mov_text subtitles and two chapters."""
    srt = folder / "subs.srt"
    srt.write_text(SRT)
    target = folder / "chapters.mp4"
    run(ffmpeg, *picture("320x180", "24", 2), *tone(2), "-i", srt, "-i", chapters_file(folder, 2),
        "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map_chapters", "3", *X264, "-c:a", "aac",
        "-c:s", "mov_text", "-metadata:s:s:0", "language=eng", target)  # fmt: skip
    return target


def mp4_cover_art(ffmpeg: str, folder: Path) -> Path:
    """An MP4 with its cover art as an attached picture (a second video stream, `attached_pic`)."""
    cover = folder / "cover.jpg"
    run(ffmpeg, "-f", "lavfi", "-i", "color=c=orange:size=160x160", "-frames:v", "1", cover)
    target = folder / "cover.mp4"
    run(ffmpeg, *picture("320x180", "24", 2), *tone(2), "-i", cover, "-map", "0:v", "-map", "1:a", "-map", "2:v",
        *X264, "-c:v:1", "copy", "-disposition:v:1", "attached_pic", "-c:a", "aac", target)  # fmt: skip
    return target


def ass_with_font(ffmpeg: str, folder: Path) -> Path:
    """Styled ASS subtitles with the font they name attached (Matroska), as fansubs carry them."""
    ass = folder / "subs.ass"
    ass.write_text(ASS)
    font = folder / "DraptoTest.ttf"  # the bytes are never rendered: a TrueType header and filler
    font.write_bytes(b"\x00\x01\x00\x00" + bytes(range(256)) * 8)
    target = folder / "ass.mkv"
    run(ffmpeg, *picture("320x180", "24", 2), *tone(2), "-i", ass, "-map", "0:v", "-map", "1:a", "-map", "2:s",
        *X264, "-c:a", "aac", "-c:s", "copy", "-attach", font, "-metadata:s:t:0", "mimetype=font/ttf", target)  # fmt: skip
    return target


def mpeg_ts(ffmpeg: str, folder: Path) -> Path:
    """A broadcast capture: H.264 and MP2 in MPEG-TS, timestamps from 1.4 s (the muxer's own start), the
    audio's first sample 50 ms before the video's first frame (40 ms given, 10 ms more from the muxer)."""
    target = folder / "broadcast.ts"
    run(ffmpeg, "-itsoffset", "0.04", *picture("320x180", "25", 2), *tone(2), "-map", "0:v", "-map", "1:a",
        *X264, "-c:a", "mp2", target)  # fmt: skip
    return target


def delayed_audio(ffmpeg: str, folder: Path) -> Path:
    """Audio that starts 0.5 s after the video (Matroska)."""
    target = folder / "delayed.mkv"
    run(ffmpeg, *picture("320x180", "24", 2), "-itsoffset", "0.5", *tone(1.5), "-map", "0:v", "-map", "1:a",
        *X264, "-c:a", "aac", target)  # fmt: skip
    return target


def corrupt(ffmpeg: str, folder: Path) -> Path:
    """A damaged Matroska file: 64 KB of noise written over the middle of a 3 s clip (a bad sector, a broken
    download); the noise is seeded so every run damages the same bytes. Its name avoids the word "damaged",
    which the table looks for in drapto's warning."""
    target = folder / "corrupt.mkv"
    run(ffmpeg, *picture("320x180", "24", 3), *tone(3), "-map", "0:v", "-map", "1:a", *X264, "-qp", "8",
        "-c:a", "aac", target)  # fmt: skip
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 65536] = random.Random(23).randbytes(65536)
    target.write_bytes(bytes(data))
    return target


def h264_10bit(ffmpeg: str, folder: Path) -> Path:
    """10-bit H.264 (High 10), as some encodes of anime and HDR-less films are."""
    target = folder / "h264-10bit.mkv"
    run(ffmpeg, *picture("320x180", "24", 2), *tone(2), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
        "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-c:a", "aac", target)  # fmt: skip
    return target


def one_second(ffmpeg: str, folder: Path) -> Path:
    """A clip of one second: shorter than any chunk and than the crop's sample spacing."""
    target = folder / "short.mkv"
    run(ffmpeg, *picture("320x180", "24", 1), *tone(1), "-map", "0:v", "-map", "1:a", *X264, "-c:a", "aac", target)
    return target


def truehd_audio(ffmpeg: str, folder: Path) -> Path:
    """Lossless TrueHD audio (5.1), as Blu-ray remuxes carry it."""
    target = folder / "truehd.mkv"
    run(ffmpeg, *picture("320x180", "24", 2), *tone(2, "5.1(side)"), "-map", "0:v", "-map", "1:a", *X264,
        "-c:a", "truehd", "-strict", "experimental", target)  # fmt: skip
    return target


def xvid_avi(ffmpeg: str, folder: Path) -> Path:
    """An Xvid AVI: MPEG-4 part 2 with B-frames and MP3 audio."""
    target = folder / "xvid.avi"
    run(ffmpeg, *picture("320x240", "25", 2), *tone(2), "-map", "0:v", "-map", "1:a", "-c:v", "libxvid",
        "-bf", "2", "-vtag", "XVID", "-c:a", "libmp3lame", "-b:a", "128k", target)  # fmt: skip
    return target


def wmv(ffmpeg: str, folder: Path) -> Path:
    """Windows Media: WMV 8 video and WMA 2 audio in ASF."""
    target = folder / "clip.wmv"
    run(ffmpeg, *picture("320x240", "25", 2), *tone(2), "-map", "0:v", "-map", "1:a", "-c:v", "wmv2",
        "-b:v", "800k", "-c:a", "wmav2", "-b:a", "128k", target)  # fmt: skip
    return target


def prores_mov(ffmpeg: str, folder: Path) -> Path:
    """An editing master: ProRes 422 (10-bit 4:2:2) with PCM audio in QuickTime."""
    target = folder / "master.mov"
    run(ffmpeg, *picture("320x180", "24000/1001", 2), *tone(2), "-map", "0:v", "-map", "1:a", "-c:v", "prores_ks",
        "-profile:v", "2", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s16le", target)  # fmt: skip
    return target


def vp9_webm(ffmpeg: str, folder: Path) -> Path:
    """A web download: VP9 and Opus in WebM."""
    target = folder / "web.webm"
    run(ffmpeg, *picture("320x180", "30", 2), *tone(2), "-map", "0:v", "-map", "1:a", "-c:v", "libvpx-vp9",
        "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus", target)  # fmt: skip
    return target


MAKERS: dict[str, Maker] = {
    "dvd-anamorphic": dvd_anamorphic,
    "dvd-letterboxed": dvd_letterboxed,
    "interlaced-576i": interlaced_576i,
    "telecined-ntsc": telecined_ntsc,
    "phone-rotated": phone_rotated,
    "vfr": variable_frame_rate,
    "mp4-chapters": mp4_text_chapters,
    "mp4-cover": mp4_cover_art,
    "ass-font": ass_with_font,
    "mpeg-ts": mpeg_ts,
    "delayed-audio": delayed_audio,
    "corrupt": corrupt,
    "h264-10bit": h264_10bit,
    "one-second": one_second,
    "truehd": truehd_audio,
    "xvid-avi": xvid_avi,
    "wmv": wmv,
    "prores-mov": prores_mov,
    "vp9-webm": vp9_webm,
}

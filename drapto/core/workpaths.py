"""Where one job's files live: the work folder beside the output (`<outdir>/.drapto/<stem>/`), every
file in it, and the `.partial` name a file is written under until it is whole. Pure."""

from __future__ import annotations

from pathlib import Path

import msgspec

CHUNK_RESULTS_NAME = "drapto-chunks.json"


class WorkPaths(msgspec.Struct, frozen=True, kw_only=True):
    """Every file one job writes: the work directory beside the output, and the output itself."""

    output: str
    workdir: str
    probe: str
    crop: str
    scenes: str
    video: str
    muxed: str
    dep_file: str

    def audio(self, index: int) -> str:
        return str(Path(self.workdir) / "audio" / f"{index:02d}.mka")

    def cover(self, index: int, filename: str) -> str:
        """An attached picture of the source (its ffmpeg index), extracted to be attached to the output."""
        return str(Path(self.workdir) / "covers" / f"{index:02d}-{filename}")

    @property
    def encoded(self) -> str:
        """The kept chunk encodes and the concat list that joins them."""
        return str(Path(self.workdir) / "encoded")

    def chunk_folder(self, index: int) -> str:
        """Where a chunk's tries are cached."""
        return str(Path(self.workdir) / "chunks" / f"{index:04d}")

    def chunk_encode(self, index: int) -> str:
        return str(Path(self.encoded) / chunk_file_name(index))

    def chunk_result(self, index: int) -> str:
        return str(Path(self.workdir) / "results" / f"{index:04d}.json")

    @property
    def concat_list(self) -> str:
        return str(Path(self.encoded) / "concat.txt")

    @property
    def chunk_results(self) -> str:
        """Every chunk's result in one file: attached to the output as drapto-chunks.json."""
        return str(Path(self.workdir) / CHUNK_RESULTS_NAME)


def chunk_file_name(index: int) -> str:
    return f"{index:04d}.mkv"


def work_paths(output: Path) -> WorkPaths:
    workdir = output.parent / ".drapto" / output.stem
    return WorkPaths(
        output=str(output),
        workdir=str(workdir),
        probe=str(workdir / "probe.json"),
        crop=str(workdir / "crop.json"),
        scenes=str(workdir / "scenes.json"),
        video=str(workdir / "video.mkv"),
        muxed=str(workdir / "muxed.mkv"),
        dep_file=str(workdir / "doit.sqlite3"),
    )


def partial_name(target: str) -> str:
    return f"{target}.partial"

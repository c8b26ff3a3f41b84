"""Settings layers: defaults < TOML file < DRAPTO_* environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from drapto.cli import parse_crf
from drapto.config import Config, load_config, show_config
from drapto.errors import InputError


def test_layers_in_order(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("preset = 4\ncrf_hd = 27\ncrf_uhd = 30\n")
    config = load_config({"crf_uhd": 31}, path=path, environ={"DRAPTO_CRF_HD": "28", "DRAPTO_KEEP": "true"})
    assert (config.preset, config.crf_hd, config.crf_uhd, config.keep) == (4, 28, 31, True)


def test_defaults(tmp_path):
    assert load_config(path=tmp_path / "none.toml", environ={}) == Config()
    assert (Config().crf_sd, Config().crf_hd, Config().crf_uhd, Config().preset) == (25, 25, 29, 6)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"crf_sd": 64}, "crf_sd"), ({"preset": 14}, "preset"), ({"film_grain": -1}, "film_grain")],
)
def test_out_of_range_values_are_input_errors(tmp_path, overrides, message):
    with pytest.raises(InputError, match=message):
        load_config(overrides, path=tmp_path / "none.toml", environ={})


def test_bad_toml_and_unknown_keys(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("preset = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(path=path, environ={})
    path.write_text("presett = 3\n")
    with pytest.raises(InputError, match="presett"):
        load_config(path=path, environ={})


def test_show_config_round_trips(tmp_path):
    config = Config(preset=8, ffmpeg="/opt/ff mpeg/ffmpeg")
    path = tmp_path / "config.toml"
    path.write_text(show_config(config))
    assert load_config(path=path, environ={}) == config


def test_parse_crf():
    assert parse_crf("24") == {"crf_sd": 24, "crf_hd": 24, "crf_uhd": 24}
    assert parse_crf("24,26,28") == {"crf_sd": 24, "crf_hd": 26, "crf_uhd": 28}
    for bad in ("x", "1,2", "1,2,3,4"):
        with pytest.raises(InputError):
            parse_crf(bad)


def test_crop_setting_is_stored_normalised():
    """Capability checks compare the setting with "auto"/"none": "AUTO" must still ask for cropdetect."""
    from drapto.plan import plan_standard, required_capabilities
    from drapto.media import MediaInfo, VideoStream

    assert Config(crop=" AUTO ").crop == "auto"
    assert Config(crop="crop=1920:800:0:140").crop == "1920:800:0:140"
    assert load_config({"crop": "None"}, path=Path("/nonexistent"), environ={}).crop == "none"
    media = MediaInfo(path="/f.mkv", container="Matroska", duration=1.0,
                      video=(VideoStream(index=0, codec="AVC", width=640, height=360),))  # fmt: skip
    plan = plan_standard(media, Config(crop="AUTO"), ffmpeg="ffmpeg", output=Path("/out/f.mkv"))
    assert {"crop", "cropdetect"} <= required_capabilities(plan, Config(crop="AUTO").crop)["filters"]

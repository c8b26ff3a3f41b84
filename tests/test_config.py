"""Settings layers: defaults < TOML file < DRAPTO_* environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from drapto.core.config import CONFIG_ENV, Config, load_config, load_settings, show_config
from drapto.errors import InputError
from drapto.shell.cli import main
from drapto.shell.flags import parse_crf


def no_file(tmp_path) -> dict[str, str]:
    """An environment whose default config file does not exist."""
    return {CONFIG_ENV: str(tmp_path / "none.toml")}


def test_layers_in_order(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("preset = 4\ncrf_hd = 27\ncrf_uhd = 30\n")
    config = load_config({"crf_uhd": 31}, path=path, environ={"DRAPTO_CRF_HD": "28", "DRAPTO_KEEP": "true"})
    assert (config.preset, config.crf_hd, config.crf_uhd, config.keep) == (4, 28, 31, True)


def test_defaults(tmp_path):
    assert load_config(environ=no_file(tmp_path)) == Config()
    assert (Config().crf_sd, Config().crf_hd, Config().crf_uhd, Config().preset) == (25, 25, 29, 6)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"crf_sd": 64}, "crf_sd"), ({"preset": 14}, "preset"), ({"film_grain": -1}, "film_grain")],
)
def test_out_of_range_values_are_input_errors(tmp_path, overrides, message):
    with pytest.raises(InputError, match=message):
        load_config(overrides, environ=no_file(tmp_path))


def test_bad_toml_and_unknown_keys(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("preset = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(path=path, environ={})
    path.write_text("presett = 3\n")
    with pytest.raises(InputError) as raised:
        load_config(path=path, environ={})
    assert raised.value.message == f"unknown setting 'presett' in {path}"
    path.write_text('preset = "fast"\n')
    with pytest.raises(InputError) as raised:
        load_config(path=path, environ={})
    assert raised.value.message == f"preset in {path}: expected an integer, got 'fast'"


def test_explicit_file_must_exist_but_the_default_may_be_missing(tmp_path):
    with pytest.raises(InputError, match="Config file not found: .*none.toml"):
        load_config(path=tmp_path / "none.toml", environ={})
    assert load_config(environ=no_file(tmp_path)) == Config()


def test_default_file_comes_from_the_given_environment(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("preset = 9\n")
    assert load_config(environ={CONFIG_ENV: str(path)}).preset == 9


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DRAPTO_PRESET": "abc"}, "DRAPTO_PRESET: expected an integer, got 'abc'"),
        ({"DRAPTO_KEEP": "yes"}, "DRAPTO_KEEP: expected true or false, got 'yes'"),
        ({"DRAPTO_TARGET_VMAF": "high"}, "DRAPTO_TARGET_VMAF: expected a number, got 'high'"),
        ({"DRAPTO_MODE": "fast"}, "DRAPTO_MODE: expected one of auto, chunked, standard, got 'fast'"),
        ({"DRAPTO_PRESET": "14"}, "preset must be between -2 and 13, got 14 (from DRAPTO_PRESET)"),
    ],
)
def test_bad_environment_values_name_the_variable(tmp_path, environ, message):
    with pytest.raises(InputError) as raised:
        load_config(environ={**no_file(tmp_path), **environ})
    assert raised.value.message == message


def test_range_errors_name_the_layers_the_values_came_from(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("film_grain = 60\n")
    with pytest.raises(InputError, match=rf"film_grain must be between 0 and 50, got 60 \(from {path}\)$"):
        load_config(path=path, environ={})
    path.write_text("crf_min = 40\n")
    with pytest.raises(InputError, match=rf"got 40-30 \(from {path} and --crf-range\)$"):
        load_config({"crf_max": 30}, flag_names={"crf_max": "--crf-range"}, path=path, environ={})
    with pytest.raises(InputError, match=r"got 64 \(from --crf\)$"):
        load_config({"crf_sd": 64}, flag_names={"crf_sd": "--crf"}, environ=no_file(tmp_path))
    with pytest.raises(InputError, match=r"got 14 \(from --preset\)$"):
        load_config({"preset": 14}, environ=no_file(tmp_path))


def test_sources_say_where_each_value_came_from(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("preset = 4\ncrf_hd = 27\n")
    config, sources = load_settings({"keep": True}, path=path, environ={"DRAPTO_CRF_HD": "28"})
    assert (config.preset, config.crf_hd, config.keep) == (4, 28, True)
    assert (sources["preset"], sources["crf_hd"], sources["keep"], sources["mode"]) == (
        str(path), "DRAPTO_CRF_HD", "--keep", "default",
    )  # fmt: skip


def test_config_command_shows_sources_and_plain_toml(tmp_path, capsys, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text("preset = 4\n")
    monkeypatch.setenv("DRAPTO_CRF_HD", "28")
    assert main(["config", "--config", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"config file: {path}"
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["preset"] == ["4", str(path)]
    assert rows["crf_hd"] == ["28", "DRAPTO_CRF_HD"]
    assert rows["mode"] == ['"auto"', "default"]
    assert rows["ffmpeg"] == ["(automatic)", "default"]
    assert main(["config", "--toml", "--config", str(path)]) == 0
    toml = capsys.readouterr().out
    assert "preset = 4\n" in toml and "# ffmpeg = (automatic)\n" in toml
    path.with_name("copy.toml").write_text(toml)
    assert load_config(path=path.with_name("copy.toml"), environ={}) == load_config(path=path)


@pytest.mark.parametrize(
    "command", [["config"], ["encode", "in.mkv", "out"], ["plan", "in.mkv", "out"], ["analyze", "in.mkv"]]
)
def test_every_command_reports_config_errors_in_one_line(tmp_path, capsys, command):
    path = tmp_path / "config.toml"
    path.write_text("presett = 4\n")
    assert main([*command, "--config", str(path)]) == 2
    assert capsys.readouterr().err == f"drapto: unknown setting 'presett' in {path}\n"
    assert main([*command, "--config", str(tmp_path / "missing.toml")]) == 2
    assert capsys.readouterr().err == f"drapto: Config file not found: {tmp_path / 'missing.toml'}\n"


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
    from drapto.core.media import MediaInfo, VideoStream
    from drapto.core.plan import plan_standard, required_capabilities

    assert Config(crop=" AUTO ").crop == "auto"
    assert Config(crop="crop=1920:800:0:140").crop == "1920:800:0:140"
    assert load_config({"crop": "None"}, environ={CONFIG_ENV: "/nonexistent"}).crop == "none"
    media = MediaInfo(path="/f.mkv", container="Matroska", duration=1.0,
                      video=(VideoStream(index=0, codec="AVC", width=640, height=360),))  # fmt: skip
    plan = plan_standard(media, Config(crop="AUTO"), ffmpeg="ffmpeg", output=Path("/out/f.mkv"))
    assert {"crop", "cropdetect"} <= required_capabilities(plan, Config(crop="AUTO").crop)["filters"]


def test_vmaf_scale_and_min_saving_are_checked(tmp_path):
    assert load_config({"vmaf_scale": "1280X720", "min_saving": 10}, environ=no_file(tmp_path)).vmaf_scale == "1280x720"
    with pytest.raises(InputError, match=r"VMAF scale must be auto, none or WxH .* \(from --vmaf-scale\)$"):
        load_config({"vmaf_scale": "huge"}, environ=no_file(tmp_path))
    with pytest.raises(
        InputError, match=r"min_saving must be a percentage from 0 to 99, got 120 \(from DRAPTO_MIN_SAVING\)$"
    ):
        load_config(environ={**no_file(tmp_path), "DRAPTO_MIN_SAVING": "120"})

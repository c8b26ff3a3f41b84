"""`drapto config`: the effective settings and where each came from."""

from __future__ import annotations

from drapto.core.config import default_config_path, load_settings, show_config, show_sources
from drapto.errors import EXIT_OK
from drapto.shell.flags import ConfigFile


def config_command(*, show: bool = True, toml: bool = False, config_file: ConfigFile = None) -> int:
    """Print the effective settings (defaults < config file < DRAPTO_* environment), each with where it came
    from.

    Parameters
    ----------
    show
        Accepted for compatibility; the settings are printed either way.
    toml
        Print plain TOML instead, ready to paste into a config file.
    """
    config, sources = load_settings(path=config_file)
    text = show_config(config) if toml else show_sources(config, sources, config_file or default_config_path())
    print(text, end="")
    return EXIT_OK

"""Command-line flags made from `Settings`: the CLI, `painterly gallery` and the web form all use these,
so a flag means the same everywhere and none of them can drift from the library.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
from typing import Any, Mapping

from .errors import SettingsError
from .settings import METHODS, OPTIMISE, PRESETS, Settings, applies, did_you_mean, preset

BOOLEAN_WORDS = {"true": True, "yes": True, "on": True, "1": True,
                 "false": False, "no": False, "off": False, "0": False}


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2, as for every other bad input."""

    def error(self, message):
        raise SettingsError(f"{message}{self._did_you_mean(message)} (see {self.prog} --help)")

    def _did_you_mean(self, message: str) -> str:
        """": did you mean --size?" for an unknown flag close to one of this parser's (argparse in Python
        3.11 says only "unrecognized arguments")."""
        if not message.startswith("unrecognized arguments: "):
            return ""
        unknown = [word.split("=")[0] for word in message.split(": ", 1)[1].split() if word.startswith("--")]
        flags = [flag for flag in self._option_string_actions if flag.startswith("--")]
        close = [match for word in unknown for match in difflib.get_close_matches(word, flags, n=1, cutoff=0.7)]
        return f": did you mean {' '.join(close)}?" if close else ""


def add_settings_flags(parser: argparse.ArgumentParser, method: str = "optimise") -> None:
    """One flag per `Settings` field, defaulting to "not given" so the preset's values stand; `method`: the
    command's own default method (`painterly video`: fast), as its help says."""
    groups = {
        METHODS: parser.add_argument_group("settings of every method (the defaults shown are --preset default's)"),
        OPTIMISE: parser.add_argument_group("settings of the optimisation (--method optimise"
                                            + (", the default)" if method == "optimise" else ")")),
    }
    for f in dataclasses.fields(Settings):
        meta = dict(f.metadata)
        group = groups[meta.pop("methods")]
        default = f" (default: {method})" if f.name == "method" else _default_text(f)
        flag, help_text = meta.pop("flag"), meta.pop("help") + default
        if meta.pop("boolean", False):
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
            continue
        if "type" not in meta and "choices" not in meta:
            meta["type"] = _field_type(f)
        group.add_argument(flag, dest=f.name, default=argparse.SUPPRESS, help=help_text, **meta)


def _default_text(f: dataclasses.Field) -> str:
    """" (default: …)" for a flag's help, as the default preset has it."""
    value = PRESETS["default"].get(f.name, f.default)
    if value is None or "default" in f.metadata["help"]:
        return ""
    shown = " ".join(map(str, value)) if isinstance(value, tuple) else ("on" if value is True else
                                                                       "off" if value is False else value)
    return f" (default: {shown})".replace("%", "%%")


def settings_from(args: argparse.Namespace) -> Settings:
    """The preset named by args.preset with the settings flags that were given on top."""
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings) if hasattr(args, f.name)}
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    return preset(args.preset, **overrides)


class _TextParser(Parser):
    """The settings flags' parser for values that came as text (a web form, a manifest): its errors name
    the setting, not an argument of a command line."""

    def error(self, message):
        raise SettingsError(message.replace("argument ", "setting ", 1))


def text_to_argv(values: Mapping[str, Any]) -> list[str]:
    """The flags that say what `values` say: settings by name (`style_weight`) or flag (`--style-weight`),
    each as text (a form field, a CSV cell), a number, True/False or a list. One set of spellings for every
    front end: a boolean is true/false, yes/no, on/off or 1/0; a list's items are separated by spaces or
    commas. SettingsError names an unknown setting or a word that is no boolean."""
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    argv: list[str] = []
    for key, value in values.items():
        name = str(key).lstrip("-").replace("-", "_")
        if name not in fields:
            raise SettingsError(f"unknown setting '{key}': {did_you_mean(name, fields)}see --help for the settings")
        meta = fields[name].metadata
        flag = meta["flag"]
        if meta.get("boolean"):
            word = str(value).strip().lower()
            if word not in BOOLEAN_WORDS:
                raise SettingsError(f"setting {flag}: '{value}' is not true or false (or yes/no, on/off, 1/0)")
            argv.append(flag if BOOLEAN_WORDS[word] else "--no-" + flag[2:])
        elif "nargs" in meta:
            words = value if isinstance(value, (list, tuple)) else str(value).replace(",", " ").split()
            argv += [flag, *map(str, words)]
        else:
            argv.append(f"{flag}={value}")
    return argv


def settings_from_text(values: Mapping[str, Any], preset_name: str = "default", *, under: Mapping | None = None,
                       base: Settings | None = None) -> Settings:
    """`Settings` from settings given as text (`text_to_argv`), parsed exactly as their flags are: over the
    settings `under` (e.g. the command line's) over the preset `preset_name`, or with `base` over that."""
    parser = _TextParser(add_help=False)
    add_settings_flags(parser)
    args = parser.parse_args(text_to_argv(values))
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items()}
    if base is not None:
        return base.replace(**overrides)
    return preset(preset_name, **{**(under or {}), **overrides})


def _field_type(f: dataclasses.Field):
    annotation = str(f.type)
    return int if annotation.startswith("int") else float if annotation.startswith("float") else str


def ignored_flags(args: argparse.Namespace, settings: Settings) -> list[str]:
    """The flags given on the command line that the chosen method does not use."""
    return [f.metadata["flag"] for f in dataclasses.fields(Settings)
            if hasattr(args, f.name) and not applies(f, settings.method)]

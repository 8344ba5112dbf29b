"""Argument types and the option sets several commands share. Arguments are checked
here, before anything connects."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import yaml

from ai_gate.errors import UsageError
from ai_gate.stats import parse_duration

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


INT4_MAX = 2**31 - 1


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error; 2 means "gate failed" here, so raise instead."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().rstrip()}")


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def bounded_integer(low: int, high: int) -> Callable[[str], int]:
    """An integer argument within [low, high] (the column it is stored in, or sense)."""

    def parse(text: str) -> int:
        value = integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, got {value:,}")
        return value

    return parse


def confidence_argument(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.5 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0.5 and 1 (e.g. 0.95), got {text!r}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def dbt_vars(text: str) -> dict[str, object]:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f"--vars is not YAML: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("--vars must be a YAML mapping, e.g. '{key: value}'")
    return value


def run_id_argument(text: str) -> str:
    if not RUN_ID_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"invalid run id {text!r}: 1-128 characters of letters, digits and . _ : -, "
            "starting with a letter or digit"
        )
    return text


def baseline_argument(text: str) -> str:
    return text if text == "latest-passed" else run_id_argument(text)


def report_path(text: str) -> Path:
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory {str(path.parent)!r} does not exist")
    return path


def duration_argument(text: str) -> object:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arms(
    sub: argparse.ArgumentParser, env_default: str | None = "prod", *, actor: bool = True
) -> None:
    """--env, --canary and --baseline (and --actor): the arms a canary is judged on."""
    sub.add_argument(
        "--env",
        default=env_default,
        required=env_default is None,
        metavar="ENV",
        help="environment" + (f" (default {env_default})" if env_default else " (required)"),
    )
    sub.add_argument(
        "--canary",
        metavar="PROVIDER",
        help="canary provider (default: the one whose routing seed role is canary)",
    )
    sub.add_argument(
        "--baseline",
        metavar="PROVIDER",
        help="baseline provider (default: the one whose routing seed role is primary, "
        "else the default provider)",
    )
    if actor:
        sub.add_argument("--actor", help="who (default AI_GATE_ACTOR, else the OS user)")


def add_vars(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--vars",
        type=dbt_vars,
        metavar="YAML",
        help="dbt vars, as for dbt (e.g. '{telemetry_cutover: 2026-12-01}')",
    )


def add_report_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--report-json", type=report_path, metavar="PATH", help="write the verdict as JSON"
    )
    sub.add_argument(
        "--report-md",
        type=report_path,
        metavar="PATH",
        help="write the verdict as Markdown (for a GitHub step summary)",
    )
    sub.add_argument(
        "--junit",
        type=report_path,
        metavar="PATH",
        help="write JUnit XML, one test case per gate",
    )

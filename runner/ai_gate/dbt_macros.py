"""A few of the project's macros rendered without dbt: plain Jinja with dbt's `var`
and `return` and the `do` statement, nothing else (no adapter, no ref). For output
that must need neither a database nor dbt's start-up (`ai-gate migrate --print`).

Each macro file holds one macro named after it, so a macro's calls to another are
resolved by name among the files given; the SQL is the dbt project's own, never a
copy of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ai_gate.dbt_project import project_dir
from ai_gate.project_config import project_var


class _Return(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


def _return(value: object) -> None:
    raise _Return(value)


def render_macro(
    name: str,
    macro_files: Sequence[str],
    dbt_vars: dict[str, object] | None = None,
    args: Sequence[object] = (),
) -> object:
    """Call macro `name` (in one of `macro_files`, paths under the project's macros/)
    with `args` and return what it returns (its rendered text, unless it returns)."""
    import jinja2  # only `migrate --print` needs it: not loaded by every command

    environment = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    environment.globals["var"] = lambda var_name: project_var(var_name, dbt_vars)
    environment.globals["return"] = _return
    macros = project_dir() / "macros"
    # Every macro name is bound before any file is loaded (a module copies the
    # globals it sees), each to a call of the macro once its file is loaded.
    loaded: dict[str, Callable[..., object]] = {}
    for relative in macro_files:
        stem = Path(relative).stem
        environment.globals[stem] = _returning(stem, loaded)
    for relative in macro_files:
        stem = Path(relative).stem
        module = environment.from_string((macros / relative).read_text(encoding="utf-8")).module
        loaded[stem] = getattr(module, stem)
    return environment.globals[name](*args)


def _returning(name: str, loaded: dict[str, Callable[..., object]]) -> Callable[..., object]:
    def call(*args: object, **kwargs: object) -> object:
        try:
            return loaded[name](*args, **kwargs)
        except _Return as returned:
            return returned.value

    return call

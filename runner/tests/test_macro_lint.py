"""sqlfluff lints a macro's SQL only where a node it lints renders it (a file that only
defines macros is skipped); analyses/lint renders the macros no model or test renders.
This keeps that true: every macro is called, directly or through other macros, from a
file sqlfluff lints (scripts/test.sh: `sqlfluff lint models macros tests analyses`)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINTED = ("models", "tests", "analyses")
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# a hook in a config() call is a string dbt renders at run time, never in the SQL
# sqlfluff lints: "{{ append_only_guard() }}" is no rendering of that macro
HOOK_STRING = re.compile(r"(['\"])\{\{.*?\}\}\1", re.DOTALL)
DEFINITION = re.compile(r"\{%-?\s*(macro|test)\s+(\w+)\s*\(")
# A dbt operation that executes statements cannot be rendered by a node without running
# them; the SQL it runs comes from macros analyses/lint renders.
NOT_RENDERED = {
    "migrate_ai_training_examples": "a dbt operation: it executes the statements of "
    "ai_training_examples_migration_statements, which lint_migration renders",
    # the view materialization and the seed reset run these while they build (ADR 0006)
    "saved_dependent_views": "runs dependent_views_query, which lint_dependent_views renders",
    "restore_dependent_views": "runs recreate_dependent_views, which lint_dependent_views renders",
    "view_columns_extend": "runs view_column_signature_query, which lint_dependent_views renders",
    "postgres__reset_csv_table": "dbt's seed materialization calls it (the dispatch search "
    "order); it runs saved_dependent_views and restore_dependent_views",
}


def macro_bodies(files: dict[str, str]) -> dict[str, str]:
    """Each macro's (or generic test's, as `test_<name>`) text, from its files."""
    bodies: dict[str, str] = {}
    for text in files.values():
        text = JINJA_COMMENT.sub("", text)
        starts = list(DEFINITION.finditer(text))
        for index, match in enumerate(starts):
            end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
            name = ("test_" if match.group(1) == "test" else "") + match.group(2)
            bodies[name] = text[match.end() : end]
    return bodies


def calls(text: str, names: set[str]) -> set[str]:
    """The macros of `names` that Jinja expressions or statements in `text` call."""
    found = set()
    for block in JINJA_BLOCK.findall(HOOK_STRING.sub("", JINJA_COMMENT.sub("", text))):
        found |= {name for name in names if re.search(rf"\b{name}\s*\(", block)}
    return found


def unrendered(macros: dict[str, str], linted: dict[str, str]) -> set[str]:
    """Macros that no linted file renders, directly or through other macros."""
    names = set(macros)
    reached: set[str] = set()
    frontier: set[str] = set()
    for text in linted.values():
        frontier |= calls(text, names)
    while frontier:
        name = frontier.pop()
        if name not in reached:
            reached.add(name)
            frontier |= calls(macros[name], names) - reached
    return names - reached


def read(folder: str) -> dict[str, str]:
    return {str(path): path.read_text() for path in sorted((REPO / folder).rglob("*.sql"))}


def test_every_macro_is_rendered_by_a_file_sqlfluff_lints() -> None:
    macros = macro_bodies(read("macros"))
    linted = {name: text for folder in LINTED for name, text in read(folder).items()}
    assert len(macros) >= 30
    assert unrendered(macros, linted) == set(NOT_RENDERED)


def test_a_macro_no_linted_file_renders_is_found() -> None:
    macros = macro_bodies(
        {
            "a.sql": "{% macro used() %}{{ helper('x') }}{% endmacro %}\n"
            "{% macro helper(x) %}select {{ x }}{% endmacro %}",
            "b.sql": "{# orphan() is only named here #}{% macro orphan() %}select 1{% endmacro %}",
            "c.sql": "{% test unique_enough(model) %}select 1{% endtest %}",
        }
    )
    assert set(macros) == {"used", "helper", "orphan", "test_unique_enough"}
    linted = {
        "model.sql": '{{ config(post_hook=["{{ orphan() }}"]) }}\n'
        "-- orphan() in SQL text is no call\nselect * from {{ used() }}"
    }
    assert unrendered(macros, linted) == {"orphan", "test_unique_enough"}


def test_the_lint_step_lints_the_harnesses() -> None:
    script = (REPO / "scripts" / "test.sh").read_text()
    assert "sqlfluff lint models macros tests analyses" in script

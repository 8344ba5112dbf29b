"""Every PL/pgSQL function the build creates (the guard triggers from the macros, the
latency functions) passes plpgsql_check: the linter that compiles each body against
the real tables (unknown columns, wrong types, unreachable code, unused variables).

sqlfluff cannot read a PL/pgSQL body (it is a string to SQL); this is its lint."""

from __future__ import annotations

import pytest
from conftest import ClonedDatabase

# Each function with the trigger it serves (its table, its transition tables), so
# plpgsql_check knows what NEW, OLD and a transition table are.
FINDINGS = """
select p.oid::regprocedure::text as function, c.level, c.message, c.lineno
from pg_proc as p
inner join pg_namespace as n on p.pronamespace = n.oid
inner join pg_language as l on p.prolang = l.oid
left join pg_trigger as t on p.oid = t.tgfoid and not t.tgisinternal
cross join lateral plpgsql_check_function_tb(
    p.oid,
    coalesce(t.tgrelid, 0),
    oldtable => t.tgoldtable,
    newtable => t.tgnewtable,
    other_warnings => true,
    extra_warnings => true,
    performance_warnings => false
) as c
where n.nspname = 'public' and l.lanname = 'plpgsql'
order by 1, c.lineno
"""


def test_every_plpgsql_function_passes_plpgsql_check(built_db: ClonedDatabase) -> None:
    if not built_db.execute("select 1 from pg_available_extensions where name = 'plpgsql_check'"):
        pytest.skip(
            "plpgsql_check is not installed on this server (Debian package "
            "postgresql-<major>-plpgsql-check; .ci/run installs it for PostgreSQL 15)"
        )
    built_db.execute("create extension if not exists plpgsql_check")
    functions = built_db.execute(
        "select count(*) from pg_proc as p join pg_namespace as n on p.pronamespace = n.oid"
        " join pg_language as l on p.prolang = l.oid"
        " where n.nspname = 'public' and l.lanname = 'plpgsql'"
    )[0][0]
    assert functions >= 11  # eight guard triggers and the three latency functions
    # The check can fail: a body that reads a column that does not exist is reported.
    built_db.execute(
        "create function public.ai_gate_lint_probe() returns bigint language plpgsql as"
        " $$ begin return (select count(no_such_column) from public.ai_eval_runs); end $$"
    )
    assert [row[0] for row in built_db.execute(FINDINGS)] == ["ai_gate_lint_probe()"]
    built_db.execute("drop function public.ai_gate_lint_probe()")
    assert built_db.execute(FINDINGS) == []

"""Flakiness across repeats, and the errored attempts of a run.

A case tried more than once by one provider (promptfoo --repeat, inspect-ai epochs,
records with the same case_id and provider) has attempts; whether an attempt passes
(no error, every check it carries true) is the dbt view ai_eval_case_attempts' to say,
the one home of that rule, which summary v2's case_pass_k reads too. Per case and
provider: attempts, passes, the pass rate, whether every attempt passed (pass^k
observed, k = attempts), the estimate of pass^k for k attempts (the pass rate to the
k) with a one-sided 95% lower bound (Wilson's lower bound to the k), and `flaky`: some
attempts passed and some failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ai_gate import stats
from ai_gate.database import Database
from ai_gate.jsonable import JsonFields

LISTED_ERRORS = 50  # errored attempts listed by name in a verdict (all are counted)
Z_ONE_SIDED_95 = stats.z_one_sided(0.05)


@dataclass(frozen=True)
class CaseFlakiness(JsonFields):
    case_id: str
    provider: str | None
    attempts: int
    passes: int
    pass_rate: float
    pass_all: bool  # every attempt passed
    flaky: bool  # some passed, some failed
    pass_k: float  # the pass rate to the power of the attempts
    pass_k_lower: float  # its one-sided 95% lower bound
    quarantined: bool = False  # kept out of the gates (the run's gate_policy.quarantine)

    @classmethod
    def of(
        cls,
        case_id: str,
        provider: str | None,
        attempts: int,
        passes: int,
        quarantined: bool = False,
    ) -> CaseFlakiness:
        low = stats.wilson_interval(passes, attempts, Z_ONE_SIDED_95)
        assert low is not None
        return cls(
            case_id=case_id,
            provider=provider,
            attempts=attempts,
            passes=passes,
            pass_rate=passes / attempts,
            pass_all=passes == attempts,
            flaky=0 < passes < attempts,
            pass_k=(passes / attempts) ** attempts,
            pass_k_lower=low[0] ** attempts,
            quarantined=quarantined,
        )

    @classmethod
    def from_json(cls, stored: dict[str, object]) -> CaseFlakiness:
        return cls.of(
            str(stored["case_id"]),
            stored.get("provider"),  # type: ignore[arg-type]
            int(stored["attempts"]),  # type: ignore[call-overload]
            int(stored["passes"]),  # type: ignore[call-overload]
            bool(stored.get("quarantined", False)),
        )


def case_flakiness(
    conn: psycopg.Connection, database: Database, run_id: str
) -> list[CaseFlakiness]:
    """Every case of the run tried more than once by a provider, by case and provider."""
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "select case_id, selected_provider, attempts, passes, is_quarantined from {}"
                " where run_id = %s and attempts > 1"
                " order by case_id, selected_provider nulls first"
            ).format(database.relation("ai_eval_case_attempts")),
            (run_id,),
        )
        return [CaseFlakiness.of(*row) for row in cur.fetchall()]


def errored_attempts(
    conn: psycopg.Connection, database: Database, run_id: str
) -> tuple[int, list[dict[str, object]]]:
    """How many of the run's samples errored, and the first LISTED_ERRORS of them."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "select sample_id, case_id, selected_provider as provider,"
                " metadata ->> 'error' as error, count(*) over () as errors"
                " from {} where run_id = %s and metadata ? 'error'"
                " order by case_id, sample_id limit %s"
            ).format(database.relation("ai_eval_samples")),
            (run_id, LISTED_ERRORS),
        )
        rows = cur.fetchall()
    count = int(rows[0].pop("errors")) if rows else 0
    for row in rows[1:]:
        row.pop("errors")
    return count, rows


def flake_rate(cases: list[CaseFlakiness]) -> float | None:
    """The share of repeated cases (by provider) that are flaky; None without any."""
    return sum(case.flaky for case in cases) / len(cases) if cases else None

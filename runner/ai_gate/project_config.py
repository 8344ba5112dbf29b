"""Values of the dbt project the runner must agree with (read, never duplicated)."""

from __future__ import annotations

from pathlib import Path

import yaml

from ai_gate.dbt_project import project_dir


def project_var(name: str, overrides: dict[str, object] | None = None) -> object:
    """A dbt var as dbt would see it: --vars override, else dbt_project.yml."""
    if overrides and name in overrides:
        return overrides[name]
    path: Path = project_dir() / "dbt_project.yml"
    with path.open(encoding="utf-8") as handle:
        config = yaml.safe_load(handle) or {}
    return (config.get("vars") or {}).get(name)

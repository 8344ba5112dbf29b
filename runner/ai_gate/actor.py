"""Who is acting: the name every audit trail records (flag changes, runs, decisions,
drills) when none is given."""

from __future__ import annotations

import getpass
import os


def default_actor() -> str:
    """AI_GATE_ACTOR, else the operating-system user."""
    return os.environ.get("AI_GATE_ACTOR") or getpass.getuser()

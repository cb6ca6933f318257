"""Stop PostgreSQL if the supervisor dies without stopping it (SIGKILL, OOM).

pg_ctl detaches the postmaster into its own session, so killing the supervisor's process group
would leave it running. This watchdog runs in its own session too:
``python -m gongkai_local.pgwatch <supervisor pid> <pgdata>``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> None:
    supervisor, pgdata = int(sys.argv[1]), Path(sys.argv[2])
    while alive(supervisor) and os.getppid() == supervisor:
        time.sleep(0.5)
    from .postgres import stop_postgres

    stop_postgres(pgdata, None)


if __name__ == "__main__":
    main()

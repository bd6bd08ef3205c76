"""How many CPU cores this process may use.

`os.cpu_count()` counts the machine's cores, but a SLURM job, a container or `taskset` may
give the process fewer (`--cpus-per-task 4` on a 64-core node): threads sized by the machine
would then fight over the few cores the job has. The scheduler affinity says what is usable.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1

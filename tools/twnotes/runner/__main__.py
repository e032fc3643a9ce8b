"""`python -m twnotes.runner --group PAIRS`: the fork servers' zygote (see forkserver)."""

from __future__ import annotations

import errno
import sys

from twnotes.runner.forkserver import main

try:
    sys.exit(main(sys.argv[1:]))
except OSError as exc:  # pragma: no cover
    if exc.errno != errno.EPIPE:
        raise
    sys.exit(0)

"""`python -m twnotes.runner --group PAIRS`: the fork servers' zygote (see forkserver).

It leaves with os._exit once its servers are gone: it holds nothing that needs cleaning
up, and tearing down the interpreter (every preloaded module) took the client's `close`
some 10 ms, more with Twisted preloaded, at the end of every run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys

from twnotes.runner.forkserver import main

try:
    code = main(sys.argv[1:])
except OSError as exc:  # pragma: no cover
    if exc.errno != errno.EPIPE:
        raise
    code = 0
for stream in (sys.stdout, sys.stderr):
    with contextlib.suppress(OSError):  # the client may have gone
        stream.flush()
os._exit(code)

"""Start ``poetry_server.py --once`` in a child process and hand back the ports it listens on.

Used by the pre-Twisted clients (blocking, selectors, gevent) so that each of them runs on
its own with ``python examples/…``. It imports no Twisted itself: those clients must not
depend on Twisted, and the gevent client must not load Twisted after monkey-patching.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SERVER = Path(__file__).resolve().parent / "poetry_server.py"

Address = tuple[str, int]


@contextlib.contextmanager
def slow_servers(
    count: int = 3, delay: float = 0.1, chunk_size: int = 10
) -> Iterator[list[Address]]:
    """Yield ``count`` loopback addresses, each serving one poem once, slowly."""
    command = [
        sys.executable,
        # Pass on -W options (the tests run everything with -W error::DeprecationWarning).
        *(f"-W{option}" for option in sys.warnoptions),
        str(SERVER), "--once", "--delay", str(delay), "--chunk-size", str(chunk_size),
        *["tcp:0:interface=127.0.0.1"] * count,
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        addresses: list[Address] = []
        for _ in range(count):
            line = server.stdout.readline()  # "serving NAME on HOST:PORT"
            if not line.startswith("serving "):
                raise RuntimeError(f"poetry server did not start: {line!r}")
            host, _, port = line.rsplit(" ", 1)[1].strip().rpartition(":")
            addresses.append((host, int(port)))
        yield addresses
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()

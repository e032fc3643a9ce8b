"""twnotes: sanitise raw HTML in the notes and run every code snippet as a test."""

__version__ = "0.1.0"

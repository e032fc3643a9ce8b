"""Browser tests: Playwright for Python driving Debian's chromium against the built site."""

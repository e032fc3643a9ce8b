"""Browser tests: Playwright for Python driving Debian's chromium-headless-shell against the
built site (Lighthouse drives Debian's chromium)."""

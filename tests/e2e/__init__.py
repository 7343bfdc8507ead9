# Read by tests/conftest.py on every run, without loading Playwright with the conftest here.
NO_BROWSER = "Chromium not found (install Debian's chromium package): browser tests skipped"

"""End-to-end scenarios in a real browser (Playwright driving Debian's Chromium)."""

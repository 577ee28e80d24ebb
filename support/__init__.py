"""Plumbing shared by tests/ and bench/: the real app on a free port, Debian's Chromium, an offline set-up.

Importing anything here changes nothing: callers ask for each effect by calling a function.
"""

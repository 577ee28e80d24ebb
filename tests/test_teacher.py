"""The teacher key: rules for the key itself, growing waits for wrong guesses, the teacher's browsers."""

import logging

import pytest

from kerasways import teacher
from kerasways.teacher import KeyGuard, TeacherBrowsers

KEY = "owl-42-at-dawn"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", KEY)
    return KEY


def test_no_key_or_a_short_key_means_no_teacher_controls_and_the_log_says_why(monkeypatch, caplog):
    monkeypatch.delenv("KERASWAYS_TEACHER_KEY", raising=False)
    assert not teacher.controls_available() and not teacher.key_matches("anything")
    for short in (" ", "a", "owl-42", "  eleven-char "):
        monkeypatch.setenv("KERASWAYS_TEACHER_KEY", short)
        with caplog.at_level(logging.WARNING, logger="kerasways"):
            assert not teacher.controls_available()
        assert not teacher.key_matches(short) and not teacher.key_matches(short.strip())
    assert "at least 12" in caplog.text


def test_whitespace_around_the_key_is_ignored_on_both_sides(monkeypatch):
    monkeypatch.setenv("KERASWAYS_TEACHER_KEY", KEY + "\n")  # as `export KEY=$(cat file)` can leave it
    assert teacher.controls_available()
    assert teacher.key_matches(KEY) and teacher.key_matches(f"  {KEY}\t")
    assert not teacher.key_matches(KEY.upper()) and not teacher.key_matches(KEY[:-1])
    assert not teacher.key_matches(None) and not teacher.key_matches(12345) and not teacher.key_matches("   ")


def test_each_wrong_guess_makes_that_browser_wait_twice_as_long(key):
    clock = Clock()
    guard = KeyGuard(clock)
    waits = []
    for _ in range(5):
        attempt = guard.attempt("student", "guess")
        assert not attempt.unlocked
        waits.append(attempt.wait_seconds)
        clock.now += attempt.wait_seconds
    assert waits == [1, 2, 4, 8, 16]
    assert guard.wait_seconds("teacher") == 0  # another browser is heard at once


def test_a_try_while_waiting_is_not_even_compared_and_the_right_key_then_unlocks(key):
    clock = Clock()
    guard = KeyGuard(clock)
    guard.attempt("student", "guess")
    guard.attempt("student", "guess")  # during the wait: not counted, not compared
    clock.now += 0.5
    assert guard.attempt("student", key) == teacher.Attempt(False, 0.5)
    clock.now += 0.5
    assert guard.attempt("student", key).unlocked
    assert guard.attempt("student", "guess").wait_seconds == 1  # the count started again


def test_a_delay_is_capped(key):
    clock = Clock()
    guard = KeyGuard(clock)
    for _ in range(20):
        clock.now += guard.attempt("student", "guess").wait_seconds + teacher.OVERALL_WINDOW_SECONDS
    assert guard.attempt("student", "guess").wait_seconds == teacher.MAX_DELAY_SECONDS


def test_many_browsers_guessing_at_once_slow_everyone_down(key):
    """A student who reloads without cookies is a new browser each time; the overall count still sees it."""
    clock = Clock()
    guard = KeyGuard(clock)
    for index in range(teacher.OVERALL_FREE_GUESSES):
        guard.attempt(f"tab {index}", "guess")
    assert guard.wait_seconds("fresh tab") == 0
    guard.attempt("tab 10", "guess")
    assert guard.wait_seconds("fresh tab") == 1
    assert guard.attempt("tab 11", "guess").wait_seconds == 1  # while everyone waits, no try is heard
    clock.now += 1
    guard.attempt("tab 11", "guess")
    assert guard.wait_seconds("fresh tab") == 2
    assert not guard.attempt("teacher", key).unlocked
    clock.now += 2
    assert guard.attempt("teacher", key).unlocked  # the teacher waits seconds, never the lesson
    clock.now += teacher.OVERALL_WINDOW_SECONDS + 1
    assert guard.wait_seconds("tab 12") == 0  # an old burst is forgotten


def test_a_browser_is_the_teachers_for_a_day_until_locked(key, monkeypatch):
    clock = Clock()
    browsers = TeacherBrowsers(clock)
    assert "browser:a" not in browsers
    browsers.add("browser:a")
    assert "browser:a" in browsers and "browser:b" not in browsers
    clock.now += teacher.TEACHER_HOURS * 3600 - 1
    assert "browser:a" in browsers
    clock.now += 2
    assert "browser:a" not in browsers
    browsers.add("browser:a")
    browsers.remove("browser:a")
    assert "browser:a" not in browsers
    browsers.add("browser:a")
    monkeypatch.delenv("KERASWAYS_TEACHER_KEY")  # the server restarted without a key
    assert "browser:a" not in browsers

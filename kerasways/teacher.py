"""The teacher: the key that unlocks the class's controls, and who has unlocked them.

The operator sets `KERASWAYS_TEACHER_KEY` when starting the server. A browser where the key was given
is the teacher's for a school day: it may stop the class's shared training, see and cancel anyone's
training, delete, import into and close collections. Students guess keys, so the server refuses a
short key (teacher controls are then off, and the log says why), and every wrong guess makes the
next attempt wait longer, for that browser and, when many browsers guess at once, for all of them.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass

TEACHER_KEY_ENV = "KERASWAYS_TEACHER_KEY"
# 12 characters: a short phrase a teacher can type, far beyond what guessing at one try per
# growing delay reaches in a lesson.
MIN_KEY_LENGTH = 12
# A browser's n-th wrong guess in a row makes it wait FIRST_DELAY × 2^(n-1) s, at most MAX_DELAY.
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 300.0
# Many browsers guessing together (a class trying keys, or one student reloading to be "new"):
# past OVERALL_FREE wrong guesses within OVERALL_WINDOW, each further one makes everyone wait,
# 1, 2, 4 … s, at most OVERALL_MAX_DELAY, so the teacher is never locked out for long.
OVERALL_WINDOW_SECONDS = 60.0
OVERALL_FREE_GUESSES = 10
OVERALL_MAX_DELAY_SECONDS = 60.0
# A browser stays the teacher's this long after the key was given (a school day).
TEACHER_HOURS = 12
LOG = logging.getLogger("kerasways")


def configured_key() -> str | None:
    """The teacher key the server was started with, without surrounding whitespace.

    Returns:
        The key, or None when none is set or it is shorter than MIN_KEY_LENGTH (teacher controls are
        then unavailable; a short key is said once in the server log).
    """
    key = os.environ.get(TEACHER_KEY_ENV, "").strip()
    if not key:
        return None
    if len(key) < MIN_KEY_LENGTH:
        _warn_short_key_once(len(key))
        return None
    return key


_warned_lengths: set[int] = set()


def _warn_short_key_once(length: int) -> None:
    if length not in _warned_lengths:
        _warned_lengths.add(length)
        LOG.warning("kerasways: %s has %d characters; teacher controls stay off until it has at least %d "
                    "(a short phrase).", TEACHER_KEY_ENV, length, MIN_KEY_LENGTH)


def controls_available() -> bool:
    """Whether the server has a usable teacher key (otherwise pages show no teacher controls)."""
    return configured_key() is not None


def key_matches(given: object) -> bool:
    """Whether `given` is the teacher key (surrounding whitespace ignored, as a pasted key has it).

    Args:
        given: what was typed (None or "" when nothing).

    Returns:
        False when the server has no usable key.
    """
    expected = configured_key()
    if expected is None or not isinstance(given, str) or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@dataclass(frozen=True)
class Attempt:
    """What came of one try of the key.

    unlocked: the key was right. wait_seconds: how long before the next try is heard (0 when at once);
    a try made while waiting is not even compared, right or wrong.
    """

    unlocked: bool
    wait_seconds: float


class KeyGuard:
    """Counts wrong guesses per browser and overall, and makes each next try wait longer.

    One per server; thread-safe. `clock` is injectable for tests.
    """

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._wrong_in_a_row: dict[str, int] = {}
        self._blocked_until: dict[str, float] = {}
        self._recent_wrong: deque[float] = deque()
        self._everyone_blocked_until = 0.0

    def wait_seconds(self, who: str) -> float:
        """How long `who` must wait before a try is heard (0: at once)."""
        with self._lock:
            return self._wait(who, self._clock())

    def _wait(self, who: str, now: float) -> float:
        return max(0.0, self._blocked_until.get(who, 0.0) - now, self._everyone_blocked_until - now)

    def attempt(self, who: str, given: object) -> Attempt:
        """Try the key for `who` (a browser id, or a session's when the browser has none).

        Args:
            who: the browser trying.
            given: the key typed.

        Returns:
            An `Attempt`: unlocked, or how long to wait before the next try.
        """
        with self._lock:
            now = self._clock()
            waiting = self._wait(who, now)
            if waiting > 0:
                return Attempt(False, waiting)
            if key_matches(given):
                self._wrong_in_a_row.pop(who, None)
                self._blocked_until.pop(who, None)
                return Attempt(True, 0.0)
            wrong = self._wrong_in_a_row[who] = self._wrong_in_a_row.get(who, 0) + 1
            self._blocked_until[who] = now + min(FIRST_DELAY_SECONDS * 2 ** (wrong - 1), MAX_DELAY_SECONDS)
            self._recent_wrong.append(now)
            while self._recent_wrong and now - self._recent_wrong[0] > OVERALL_WINDOW_SECONDS:
                self._recent_wrong.popleft()
            beyond = len(self._recent_wrong) - OVERALL_FREE_GUESSES
            if beyond > 0:
                self._everyone_blocked_until = max(self._everyone_blocked_until,
                                                   now + min(2.0 ** (beyond - 1), OVERALL_MAX_DELAY_SECONDS))
            if len(self._recent_wrong) > OVERALL_FREE_GUESSES:
                LOG.warning("kerasways: %d wrong teacher-key guesses in the last minute.", len(self._recent_wrong))
            return Attempt(False, self._wait(who, now))


class TeacherBrowsers:
    """The browsers where the teacher key was given, for TEACHER_HOURS each. One per server; thread-safe."""

    def __init__(self, clock=time.monotonic, hours: float = TEACHER_HOURS):
        self._clock = clock
        self._seconds = hours * 3600
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, who: str) -> None:
        """`who` gave the key: it is the teacher's browser from now on."""
        with self._lock:
            self._until[who] = self._clock() + self._seconds

    def remove(self, who: str) -> None:
        """`who` locked the teacher controls again (a borrowed laptop, the end of the lesson)."""
        with self._lock:
            self._until.pop(who, None)

    def __contains__(self, who: object) -> bool:
        with self._lock:
            until = self._until.get(who)  # type: ignore[arg-type]
            return until is not None and until > self._clock() and controls_available()

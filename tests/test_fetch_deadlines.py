"""The fetch watchdog: one thread cuts each response off at its deadline (the end-to-end cut of a
trickling server is tested in test_faults.py)."""

from __future__ import annotations

import threading
import time

from pipeline.fetch.transport import DEADLINES, Watchdog


class Recorded(Watchdog):
    """A watchdog that records its firing instead of cutting a connection."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.cut = threading.Event()

    def fire(self) -> None:
        self.fired = True
        self.cut.set()


def asleep_until_a_deadline() -> None:
    """Until the watching thread has gone to sleep until the deadline armed (a few milliseconds)."""
    for _ in range(500):
        if DEADLINES._waking is not None:
            return
        time.sleep(0.01)


def test_a_sooner_deadline_armed_after_a_later_one_still_fires_on_time() -> None:
    later, sooner = Recorded(60), Recorded(0.05)
    with later:
        asleep_until_a_deadline()
        with sooner:
            assert sooner.cut.wait(10)  # the thread, asleep until `later`'s deadline, was woken
        assert not later.fired


def test_a_response_that_ends_in_time_is_never_cut() -> None:
    watchdog = Recorded(0.05)
    with watchdog:
        pass
    time.sleep(0.2)  # past its deadline

    assert not watchdog.fired


def test_every_response_is_watched_by_one_thread() -> None:
    for _ in range(20):
        with Recorded(60):
            pass

    watchers = [thread for thread in threading.enumerate() if thread.name == "panui-fetch-deadlines"]
    assert len(watchers) == 1
    assert watchers[0].daemon  # never keeps a finished run's process alive
    assert DEADLINES._armed == {}


class Broken(Recorded):
    """A watchdog whose cut fails (a bug): the watch over later responses must go on."""

    def fire(self) -> None:
        raise RuntimeError("a bug in the cut")


def test_a_cut_that_fails_does_not_end_the_watch_over_later_responses() -> None:
    with Broken(0.01):
        time.sleep(0.1)  # its deadline passes, and its cut raises in the watching thread
    later = Recorded(0.05)

    with later:
        assert later.cut.wait(10)

"""One job at a time with a bounded line: order, refusal with the count, no leaks."""

from __future__ import annotations

import threading

import pytest

from inceptionism.web.slots import Busy, Slots


def test_first_come_first_served_and_the_line_is_bounded():
    slots = Slots(max_waiting=2)
    a, b, c = slots.enter(), slots.enter(), slots.enter()
    assert a.wait(0) and (a.ahead(), b.ahead(), c.ahead()) == (0, 1, 2)
    with pytest.raises(Busy, match=r"Busy: 3 jobs are ahead of you and the line is full"):
        slots.enter()
    assert not b.wait(0.05), "b ran while a held the slot"
    a.leave()
    assert not c.wait(0.05), "c overtook b"
    assert b.wait(0) and c.ahead() == 1
    d = slots.enter()  # a place freed up
    b.leave()
    assert c.wait(0) and d.ahead() == 1


def test_a_waiter_that_leaves_frees_its_place_and_nobody_waits_forever():
    slots = Slots(max_waiting=1)
    a = slots.enter()
    a.wait()
    b = slots.enter()
    b.leave()  # gave up waiting
    c = slots.enter()
    started = threading.Event()

    def run():
        c.wait()
        started.set()

    t = threading.Thread(target=run)
    t.start()
    assert not started.wait(0.1)
    a.leave()
    assert started.wait(5), "the next in line never started"
    t.join()
    c.leave()
    assert slots.queued == 0


def test_no_waiting_allowed_means_busy_while_one_runs():
    slots = Slots(max_waiting=0)
    with slots.enter() as a:
        a.wait()
        with pytest.raises(Busy, match="1 job is ahead"):
            slots.enter()
    with slots.enter() as b:  # free again once the job is over
        assert b.wait(0)


def test_one_job_per_owner_a_second_takes_the_first_ones_place():
    slots = Slots(max_waiting=2)
    running = slots.enter("ann")
    assert running.wait(0)
    bob, cat = slots.enter("bob"), slots.enter("cat")
    with pytest.raises(Busy):
        slots.enter("dan")
    bob2 = slots.enter("bob")  # replaces bob's waiting job, in its place, without Busy
    assert bob.replaced and not bob.wait(0), "the replaced job still waits"
    assert (bob2.ahead(), cat.ahead(), slots.queued) == (1, 2, 3)
    ann2 = slots.enter("ann")  # replaces the running job: next once it has stopped
    assert running.replaced and ann2.ahead() == 1 and not ann2.wait(0.05)
    running.leave()  # the replaced job stopped
    assert ann2.wait(0) and bob2.ahead() == 1 and cat.ahead() == 2


def test_concurrency_runs_that_many_at_once_in_order():
    slots = Slots(max_waiting=1, concurrency=2)
    a, b, c = slots.enter("a"), slots.enter("b"), slots.enter("c")
    assert a.wait(0) and b.wait(0), "two slots, but the second job did not start"
    assert not c.wait(0.05) and c.ahead() == 2 and slots.running == 2
    with pytest.raises(Busy, match="3 jobs are ahead"):
        slots.enter("d")
    b.leave()
    assert c.wait(0)

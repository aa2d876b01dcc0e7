"""Event ids (``guard.ids.uuid7``): RFC 9562 version 7, sorted in the order made, and a forked
child never hands out the random bits its parent read ahead."""

from __future__ import annotations

import os
import uuid

from fenghuo.guard.ids import uuid7


def test_ids_are_version_7_unique_and_sorted_in_the_order_they_were_made():
    ids = [uuid7() for _ in range(20_000)]  # several refills of the random pool
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for i in ids[:: 997]:
        u = uuid.UUID(i)
        assert u.version == 7 and u.variant == uuid.RFC_4122 and str(u) == i
    assert len({i[-12:] for i in ids}) == len(ids)  # the random part differs too, not only the counter


def test_a_forked_child_does_not_reuse_the_parents_random_bits():
    uuid7()  # the parent has random bits read ahead now
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id's random tail, to the parent
        os.close(r)
        os.write(w, uuid7()[-12:].encode())
        os._exit(0)
    os.close(w)
    child = os.read(r, 64).decode()
    os.close(r)
    os.waitpid(pid, 0)
    assert child and child != uuid7()[-12:]

"""Reconciliation lists the bucket's keys from the stream's per-subject counts (not nats-py's
``kv.keys()``, whose watcher can end its listing early): every live key is found, deleted and
purged ones are left out, and an empty bucket is empty — on the machine's real NATS."""

from __future__ import annotations

import orjson

from fenghuo.scale.reconcile import _bucket_contents, _bucket_keys


def test_every_live_key_is_listed_and_deleted_ones_are_not(shared_link):
    link = shared_link
    kv = link.bucket()
    bucket = link.settings.bucket
    assert link.run(_bucket_contents(link.nc, kv, bucket)) == {}
    values = {f"svc.s{i:04d}": {"service": f"s{i:04d}", "state": "running", "version": i} for i in range(300)}
    for key, view in values.items():
        link.run(kv.put(key, orjson.dumps(view)))
    link.run(kv.put("svc.s0001", orjson.dumps({**values["svc.s0001"], "version": 999})))  # a second revision
    link.run(kv.delete("svc.s0002"))
    link.run(kv.purge("svc.s0003"))
    keys = link.run(_bucket_keys(link.nc, bucket))
    assert len(keys) == len(set(keys)) == 300  # the deleted and purged keys keep a marker message
    held = link.run(_bucket_contents(link.nc, kv, bucket))
    want = {k: v for k, v in values.items() if k not in ("svc.s0002", "svc.s0003")}
    want["svc.s0001"] = {**values["svc.s0001"], "version": 999}
    assert held == want

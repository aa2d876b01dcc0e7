"""Scale-out: PostgreSQL for state, NATS JetStream for events, a JetStream KV bucket for the
switch, several control-plane replicas. Chosen by configuration (``--db postgresql://…``,
``--bus nats://…``); the embedded default (SQLite, in-process bus, SSE) is untouched.

One idea per module: ``connection`` (a NATS client on its own loop thread, and the names and
limits of every stream, bucket and subject), ``jsbus`` (the monitor's bus on JetStream),
``cursor`` (exactly-once counting by stream sequence), ``kvswitch`` (switch states into the KV
bucket), ``reconcile`` (repair KV from the database), ``sink`` (guard telemetry into JetStream), ``acks`` (acknowledgements and heartbeats
over NATS), ``lease`` (one leader across replicas, in PostgreSQL), ``runtime`` (the control
plane's wiring). The guard's side (its KV switch source and ``nats_guard``) is
``guard.kvfollow`` and ``guard.nats``: the guard sits above scale. See docs/scale.md and
docs/deploy.md.
"""

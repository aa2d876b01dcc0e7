"""Scale-out: PostgreSQL for state, NATS JetStream for events, a JetStream KV bucket for the
switch, several control-plane replicas. Chosen by configuration (``--db postgresql://…``,
``--bus nats://…``); the embedded default (SQLite, in-process bus, SSE) is untouched.

One idea per module: ``connection`` (a NATS client on its own loop thread, and the names and
limits of every stream, bucket and subject), ``jsbus`` (the monitor's bus on JetStream),
``cursor`` (exactly-once counting by stream sequence), ``kvswitch`` (switch states into the KV
bucket), ``reconcile`` (repair KV from the database), ``kvfollow`` (the guard's KV switch
source), ``sink`` (guard telemetry into JetStream), ``acks`` (acknowledgements and heartbeats
over NATS), ``lease`` (one leader across replicas, in PostgreSQL), ``runtime`` (the control
plane's wiring). See docs/scale.md and docs/deploy.md.
"""

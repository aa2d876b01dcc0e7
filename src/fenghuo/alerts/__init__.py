"""Graded early warning (风险预警): rules over indicators raise blue/yellow/orange/red warnings.

The pipeline follows Alertmanager's small stages, one file each, each testable alone:
rules (what to watch) → evaluate (does it hold, for how long) → lifecycle (pending → firing →
resolved, escalation, flap guard) → store (database + ledger, one transaction per transition)
→ dispatch (grouping) → inhibit → silence → notify (routing, channels, retries, delivery log).
"""

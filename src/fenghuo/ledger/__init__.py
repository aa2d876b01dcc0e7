"""The tamper-evident ledger (透明度): a hash chain of every registration, grading, command,
state change and approval, with signed checkpoints that catch truncation and re-hashing."""

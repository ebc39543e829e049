"""Job functions, the outbox relay, the embedded runner and the scheduler."""

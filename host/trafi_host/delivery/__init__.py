"""Event delivery, above the runtime: dispatch of committed events to subscribed modules
(sync in the request's wake, async as jobs), the job queue, workers, relay and sweeper.

The records it works on (catalogue, outbox, delivery ledger) are in `events/`,
below the runtime, so the core can write events without knowing who delivers them.
"""

"""Counts order.created events (the bench's subscriber)."""

from trafi_sdk import Event, Module, kv

module = Module("event-counter")


@module.on("order.created")
def count(event: Event) -> None:
    kv.increment("orders", 1)

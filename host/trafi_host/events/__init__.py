"""Business events: the catalogue, the outbox, delivery to module subscriptions."""

-- One row per change of a customer's points. `seq` numbers a customer's entries and
-- `balance` is the total after this one: the (customer, seq) key lets one add in, and
-- sends a concurrent one with the same `seq` back to read again. `idempotency_key`
-- makes an add that is retried (a redelivered event, a client's retry) land once.
-- The host adds the tenant column and makes both keys per tenant.
CREATE TABLE mod_points__entry (
    id SERIAL PRIMARY KEY,
    customer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    points BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    idempotency_key TEXT UNIQUE,
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (customer, seq)
);

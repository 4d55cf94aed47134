-- IVR flows: what the debtor did on an answered call, promises to pay, and
-- the do-not-call list that every campaign respects.

-- The flow's outcome (tipificación: promise_to_pay, opt_out, no_input ...),
-- the nodes visited ("saludo > menu > promesa") and the keys entered per node
-- (a JSON array of [node, keys] pairs).
ALTER TABLE attempts ADD COLUMN outcome TEXT;
ALTER TABLE attempts ADD COLUMN flow_path TEXT;
ALTER TABLE attempts ADD COLUMN inputs TEXT;

-- Promesas de pago, written before the debtor hears the confirmation.
CREATE TABLE promises (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id    INTEGER NOT NULL REFERENCES attempts(id),
    campaign_id   INTEGER NOT NULL,
    contact_id    TEXT NOT NULL,
    phone         TEXT NOT NULL,
    promised_date TEXT NOT NULL,   -- YYYY-MM-DD
    amount        INTEGER,         -- whole units, when the flow asked
    node          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX promises_by_campaign ON promises(campaign_id, promised_date);

-- Numbers that must not be called, by any campaign. An opt-out is written
-- here before the debtor hears "we will not call again".
CREATE TABLE do_not_call (
    phone       TEXT PRIMARY KEY,  -- E.164
    reason      TEXT NOT NULL,     -- 'opt_out' ...
    campaign_id INTEGER,
    contact_id  TEXT,
    attempt_id  INTEGER,
    created_at  TEXT NOT NULL
);

-- The spine's schema: campaigns, their contacts, and one row per call attempt.
-- Times are UTC, ISO 8601 with milliseconds ("2026-11-22T23:10:05.123Z").

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE contacts (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    contact_id  TEXT NOT NULL,
    phone       TEXT NOT NULL,          -- E.164
    name        TEXT NOT NULL,
    balance     TEXT NOT NULL,
    due_date    TEXT NOT NULL,
    vars        TEXT NOT NULL,          -- JSON object of the list's other columns
    source_line INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, contact_id)
);

CREATE TABLE attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER NOT NULL,
    contact_id   TEXT NOT NULL,
    attempt_no   INTEGER NOT NULL,      -- 1 for the first call of a contact
    phone        TEXT NOT NULL,         -- the number as dialed (E.164)
    trunk        TEXT NOT NULL,
    call_id      TEXT NOT NULL UNIQUE,  -- SIP Call-ID, chosen before the INVITE leaves
    started_at   TEXT NOT NULL,         -- written before the INVITE leaves
    ringing_at   TEXT,                  -- first 180/183
    answered_at  TEXT,                  -- 200 OK
    ended_at     TEXT,                  -- NULL while the call is in flight
    sip_code     INTEGER,               -- final response (200 for answered calls)
    sip_reason   TEXT,
    disposition  TEXT,                  -- see docs/configuration.md#dispositions
    digits       TEXT NOT NULL DEFAULT '',
    codec        TEXT,
    hangup_by    TEXT,                  -- 'dialer' or 'callee'
    note         TEXT,                  -- why, in words, when the code is not enough
    UNIQUE (campaign_id, contact_id, attempt_no),
    FOREIGN KEY (campaign_id, contact_id) REFERENCES contacts(campaign_id, contact_id)
);

CREATE INDEX attempts_in_flight ON attempts(campaign_id) WHERE ended_at IS NULL;

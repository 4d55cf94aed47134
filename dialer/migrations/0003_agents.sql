-- Agents and queues (ACD): every state change of an agent, every debtor who
-- entered a queue, what agents recorded, and what overflows left behind.
-- Times are UTC, ISO 8601 with milliseconds, like the rest of the schema.

-- Agent states with timestamps: logged_out, ready, reserved, on_call,
-- wrap_up, paused (with a reason code). Occupancy and wrap-up time in the
-- reports are computed from these rows.
CREATE TABLE agent_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent      TEXT NOT NULL,      -- login
    state      TEXT NOT NULL,
    reason     TEXT,               -- pause reason
    attempt_id INTEGER,            -- the call, while reserved or on a call
    at         TEXT NOT NULL
);
CREATE INDEX agent_events_by_agent ON agent_events(agent, at);

-- One row per transfer to a queue (a debtor who pressed 1).
CREATE TABLE queue_calls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id  INTEGER NOT NULL REFERENCES attempts(id),
    campaign_id INTEGER NOT NULL,
    queue       TEXT NOT NULL,     -- the queue entered
    skills      TEXT NOT NULL,     -- required skills, comma separated
    priority    INTEGER NOT NULL,
    enqueued_at TEXT NOT NULL,
    offers      INTEGER NOT NULL DEFAULT 0,  -- agents rung
    agent       TEXT,              -- who answered
    answered_at TEXT,              -- the agent's 200 OK
    ended_at    TEXT,              -- the bridge or the wait ended
    -- answered, abandoned (debtor hung up waiting: counts as an abandoned
    -- call for pacing and compliance), callback, voicemail, no_agent, error
    outcome     TEXT,
    final_queue TEXT,              -- after overflows to other queues
    hangup_by   TEXT,              -- debtor | agent | dialer, for answered calls
    note        TEXT
);
CREATE INDEX queue_calls_by_queue ON queue_calls(queue, enqueued_at);
CREATE INDEX queue_calls_open ON queue_calls(attempt_id) WHERE ended_at IS NULL;

-- The agent's tipificación of a call, recorded over HTTP.
CREATE TABLE agent_dispositions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id  INTEGER NOT NULL REFERENCES attempts(id),
    agent       TEXT NOT NULL,
    disposition TEXT NOT NULL,
    note        TEXT,
    created_at  TEXT NOT NULL
);

-- Callbacks promised to debtors a queue could not serve.
CREATE TABLE callbacks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL,
    contact_id  TEXT NOT NULL,
    phone       TEXT NOT NULL,
    attempt_id  INTEGER NOT NULL REFERENCES attempts(id),
    queue       TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Messages debtors left when no agent was free.
CREATE TABLE voicemails (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id INTEGER NOT NULL REFERENCES attempts(id),
    queue      TEXT NOT NULL,
    path       TEXT NOT NULL,
    seconds    REAL NOT NULL,
    created_at TEXT NOT NULL
);

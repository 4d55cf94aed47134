-- Compliance: why each attempt was allowed ("allowed because Tue 10:05 in
-- America/Mexico_City is within Mexico's hours ..."), and the contacts the
-- rules refused to call, with the first instant they may be called.

ALTER TABLE attempts ADD COLUMN compliance TEXT;

CREATE TABLE deferrals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL,
    contact_id  TEXT NOT NULL,
    phone       TEXT NOT NULL,
    decided_at  TEXT NOT NULL,
    reason      TEXT NOT NULL,      -- "refused: Sun 2026-11-22 in America/Bogota is a day without calls in Colombia"
    retry_at    TEXT,               -- NULL when no lawful instant is known
    FOREIGN KEY (campaign_id, contact_id) REFERENCES contacts(campaign_id, contact_id)
);
CREATE INDEX deferrals_by_contact ON deferrals(campaign_id, contact_id);

-- The calls a debtor got recently, by number and by debt, in any campaign:
-- read before every dial for the caps per day and per week.
CREATE INDEX attempts_by_phone ON attempts(phone, started_at);
CREATE INDEX attempts_by_contact ON attempts(contact_id, started_at);

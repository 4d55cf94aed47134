-- Agents kept in the store rather than in the configuration file (added
-- with `dialer agents add`): the same fields as an [[agent]] section. The
-- password is the softphone's digest password; protect the database file
-- like the configuration file.
CREATE TABLE agent_accounts (
    login             TEXT PRIMARY KEY,   -- lowercase
    name              TEXT NOT NULL,
    password          TEXT NOT NULL,
    skills            TEXT NOT NULL,      -- JSON array, e.g. ["cobranza-temprana:8"]
    login_on_register INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

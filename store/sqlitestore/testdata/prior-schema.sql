-- The tables as the release before auth.AccountStore made them (commit
-- 0f4dfbd): its Schema, AttemptsSchema and SessionsSchema, verbatim, one
-- statement per ";" at the end of a line. A database made with them is what
-- the MigrateUpgradesPriorRelease test upgrades.
CREATE TABLE IF NOT EXISTS auth_users (
	id            TEXT NOT NULL PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL -- unix microseconds, UTC
);
CREATE TABLE IF NOT EXISTS auth_attempts (
	key_hash TEXT NOT NULL PRIMARY KEY,
	attempts INTEGER NOT NULL,
	last_at  INTEGER NOT NULL -- unix microseconds, UTC
);
CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at);
CREATE TABLE IF NOT EXISTS auth_sessions (
	id         TEXT NOT NULL PRIMARY KEY,
	user_id    TEXT NOT NULL,
	expires_at INTEGER NOT NULL, -- unix microseconds, UTC
	revoked_at INTEGER           -- unix microseconds, UTC; NULL while live
);
CREATE INDEX IF NOT EXISTS auth_sessions_user_id ON auth_sessions (user_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expires_at ON auth_sessions (expires_at);
CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
	hash       TEXT NOT NULL PRIMARY KEY, -- SHA-256 of the token, hex
	family_id  TEXT NOT NULL,             -- auth_sessions.id
	user_id    TEXT NOT NULL,
	issued_at  INTEGER NOT NULL,          -- unix microseconds, UTC
	expires_at INTEGER NOT NULL,          -- unix microseconds, UTC
	used_at    INTEGER                    -- unix microseconds, UTC; NULL while unused
);
CREATE INDEX IF NOT EXISTS auth_refresh_tokens_expires_at ON auth_refresh_tokens (expires_at);
CREATE TABLE IF NOT EXISTS auth_revocations (
	user_id    TEXT NOT NULL PRIMARY KEY,
	revoked_at INTEGER NOT NULL, -- unix microseconds, UTC
	generation INTEGER NOT NULL DEFAULT 1
);

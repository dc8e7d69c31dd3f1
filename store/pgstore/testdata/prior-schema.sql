-- The tables as the release before auth.AccountStore made them (commit
-- 0f4dfbd): its Schema, AttemptsSchema and SessionsSchema, verbatim, one
-- statement per ";" at the end of a line. A database made with them is what
-- the MigrateUpgradesPriorRelease test upgrades.
CREATE TABLE IF NOT EXISTS auth_users (
	id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	email         TEXT COLLATE "C" NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_attempts (
	key_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	attempts BIGINT NOT NULL,
	last_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at);
CREATE TABLE IF NOT EXISTS auth_sessions (
	id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	user_id    TEXT COLLATE "C" NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS auth_sessions_user_id ON auth_sessions (user_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expires_at ON auth_sessions (expires_at);
CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
	hash       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	family_id  TEXT COLLATE "C" NOT NULL,
	user_id    TEXT COLLATE "C" NOT NULL,
	issued_at  TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS auth_refresh_tokens_expires_at ON auth_refresh_tokens (expires_at);
CREATE TABLE IF NOT EXISTS auth_revocations (
	user_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	revoked_at TIMESTAMPTZ NOT NULL,
	generation BIGINT NOT NULL DEFAULT 1
);
ALTER TABLE auth_revocations ADD COLUMN IF NOT EXISTS generation BIGINT NOT NULL DEFAULT 1;

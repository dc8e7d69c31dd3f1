-- The tables as the release before auth.AccountStore made them (commit
-- 0f4dfbd): its Schema, AttemptsSchema and SessionsSchema, verbatim, one
-- statement per ";" at the end of a line. A database made with them is what
-- the MigrateUpgradesPriorRelease test upgrades.
CREATE TABLE IF NOT EXISTS auth_users (
	id            VARBINARY(255) NOT NULL,
	email         VARBINARY(254) NOT NULL,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    DATETIME(6) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY auth_users_email (email)
) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE TABLE IF NOT EXISTS auth_attempts (
	key_hash VARBINARY(64) NOT NULL,
	attempts BIGINT NOT NULL,
	last_at  DATETIME(6) NOT NULL,
	PRIMARY KEY (key_hash),
	KEY auth_attempts_last_at (last_at)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS auth_sessions (
	id         VARBINARY(64) NOT NULL,
	user_id    VARBINARY(255) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	revoked_at DATETIME(6) NULL,
	PRIMARY KEY (id),
	KEY auth_sessions_user_id (user_id),
	KEY auth_sessions_expires_at (expires_at)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
	hash       VARBINARY(64) NOT NULL,
	family_id  VARBINARY(64) NOT NULL,
	user_id    VARBINARY(255) NOT NULL,
	issued_at  DATETIME(6) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	used_at    DATETIME(6) NULL,
	PRIMARY KEY (hash),
	KEY auth_refresh_tokens_expires_at (expires_at)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS auth_revocations (
	user_id    VARBINARY(255) NOT NULL,
	revoked_at DATETIME(6) NOT NULL,
	generation BIGINT NOT NULL DEFAULT 1,
	PRIMARY KEY (user_id)
) ENGINE=InnoDB;

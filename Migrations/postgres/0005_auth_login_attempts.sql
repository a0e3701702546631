-- Atlas — Auth: login attempts, for throttling per account and per client address (SPEC §4).
-- `account` is the lower-cased username as typed, whether or not such a user exists.
CREATE TABLE auth_login_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX auth_login_attempts_account ON auth_login_attempts (account, attempted_at);
CREATE INDEX auth_login_attempts_address ON auth_login_attempts (address, attempted_at);

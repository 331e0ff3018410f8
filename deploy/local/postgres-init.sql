-- Per-service roles and databases for the local/dev PostgreSQL (dev credentials only!).
-- Idempotent: run by deploy/local/stack.sh on every start (as superuser `recouvra`), and by the
-- postgres image's /docker-entrypoint-initdb.d in deploy/docker-compose.yml (first start only).
-- Needs psql (\gexec). Each service gets a LOGIN role and a database of the same name, owned by
-- that role, whose password is the service name.

\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', s, s)
FROM unnest(ARRAY['gateway', 'intake', 'scoring', 'matching', 'messaging', 'vault', 'settlement']) AS s
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = s)
\gexec

-- Re-assert the password in case a role pre-existed with another one.
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', s, s)
FROM unnest(ARRAY['gateway', 'intake', 'scoring', 'matching', 'messaging', 'vault', 'settlement']) AS s
\gexec

SELECT format('CREATE DATABASE %I OWNER %I', s, s)
FROM unnest(ARRAY['gateway', 'intake', 'scoring', 'matching', 'messaging', 'vault', 'settlement']) AS s
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = s)
\gexec

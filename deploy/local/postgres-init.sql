-- Per-service roles and databases for the local/dev PostgreSQL (dev credentials only!).
-- Idempotent: run by deploy/local/stack.sh on every start (as superuser `recouvra`).
-- Needs psql (\gexec). Each service S gets two LOGIN roles, whose passwords are their names:
--
--   S_owner  owns database S and everything in it: `python -m S migrate` connects as it
--            (RECOUVRA_<S>_MIGRATION_DATABASE_URL) and, after each upgrade, grants S the rows.
--   S        the runtime role the service connects as (RECOUVRA_<S>_DATABASE_URL): SELECT,
--            INSERT, UPDATE, DELETE on S's tables; no DROP, ALTER, TRUNCATE or CREATE.
--
-- Neither is superuser or may create databases or roles. Only S may connect to database S
-- (S_owner, as its owner, too); PUBLIC may connect to none, nor to the maintenance database.
-- `psql -v services=a,b -f postgres-init.sql` provisions those names instead of the services
-- (tests/integration/test_database_roles.py does) and leaves the maintenance databases alone
-- unless `-v maintenance=true` (stack.sh passes its own list of services and that).

\set ON_ERROR_STOP on
\if :{?services}
\if :{?maintenance}
\else
\set maintenance false
\endif
\else
\set services 'gateway,intake,scoring,matching,messaging,vault,settlement'
\set maintenance true
\endif

CREATE TEMPORARY TABLE provisioned AS
SELECT s AS database, s AS runtime, s || '_owner' AS owner
FROM unnest(string_to_array(:'services', ',')) AS s;

SELECT format('CREATE ROLE %I', r)
FROM provisioned, LATERAL (VALUES (runtime), (owner)) AS v (r)
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
\gexec

-- Re-assert attributes and passwords in case a role pre-existed with others.
SELECT format(
  'ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
  r, r)
FROM provisioned, LATERAL (VALUES (runtime), (owner)) AS v (r)
\gexec

SELECT format('CREATE DATABASE %I OWNER %I', database, owner)
FROM provisioned
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = database)
\gexec

-- Databases made before the owner/runtime split belonged to the runtime role; stack.sh then
-- hands the objects inside to the owner too (REASSIGN OWNED needs a connection to each).
SELECT format('ALTER DATABASE %I OWNER TO %I', database, owner)
FROM provisioned
\gexec

SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', database)
FROM provisioned
\gexec

SELECT format('GRANT CONNECT ON DATABASE %I TO %I', database, runtime)
FROM provisioned
\gexec

\if :maintenance
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
\endif

DROP TABLE provisioned;

-- One service's database and the role that owns it; only that role (and superusers) may
-- connect to it. Idempotent: run it again to change the password.
--
-- Run as a superuser with psql, once per service:
--   psql -v ON_ERROR_STOP=1 -v db=catalog  -v role=catalog  -v password="$CATALOG_DB_PASSWORD"  -f services/roles.sql
--   psql -v ON_ERROR_STOP=1 -v db=activity -v role=activity -v password="$ACTIVITY_DB_PASSWORD" -f services/roles.sql
--
-- The role owns its database, so it can run its own migrations (dbtool) and owns the tables
-- they create; it cannot create roles or databases, and it cannot connect to any other
-- service's database, because CONNECT is revoked from PUBLIC here for every database this
-- script sets up.

\set ON_ERROR_STOP on

\if :{?db}
\else
  DO $$ BEGIN RAISE EXCEPTION 'set the database name: -v db=NAME'; END $$;
\endif
\if :{?role}
\else
  DO $$ BEGIN RAISE EXCEPTION 'set the role name: -v role=NAME'; END $$;
\endif
\if :{?password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'set the role password: -v password=SECRET'; END $$;
\endif

SELECT format('CREATE ROLE %I', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec

ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'password';

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec

ALTER DATABASE :"db" OWNER TO :"role";
-- By default every role may connect to every database; here only the owner may.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";

#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). Creates the application role that owns the database "app", so the
# backup server never connects as the superuser. What a restore and a drill need
# (README, "Security"): owning every object of the database, terminating sessions that block a
# restore (pg_signal_backend; never superuser sessions), creating the drill's scratch database.
set -eu
: "${APP_DB_PASSWORD:?APP_DB_PASSWORD must be set}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE app LOGIN CREATEDB PASSWORD :'app_password';
GRANT pg_signal_backend TO app;
CREATE DATABASE app OWNER app;
SQL

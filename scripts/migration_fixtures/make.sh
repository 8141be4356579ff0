#!/bin/sh
# Regenerate tests/migrations/fixtures/: databases populated by the *released* pushauth (commit
# 7f053d1, the last release before schema migrations), one SQLite and one PostgreSQL.
#
#   scripts/migration_fixtures/make.sh [POSTGRES_URL]
#
# Checks the old code out with `git archive` into a temporary directory (outside the repository),
# gives it its own virtualenv, runs scripts/migration_fixtures/populate_7f053d1.py there against a new
# SQLite file and a new PostgreSQL database, and dumps them:
#   7f053d1.sqlite.sql   `sqlite3 .dump`
#   7f053d1.postgres.sql `pg_dump --inserts` of the public schema of a new database
# Needs git, python3, sqlite3, pg_dump and the PostgreSQL of tests/conftest.py. Not run in CI:
# the fixtures are committed, and the test (tests/migrations/test_old_database.py) loads them.
set -eu
RELEASE=7f053d1
PG_URL="${1:-postgresql+asyncpg://postgres@127.0.0.1:5432/test}"
PG_DSN=$(printf '%s' "$PG_URL" | sed 's/+asyncpg//')
FIXTURE_DB=pushauth_fixture_$RELEASE
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$REPO/tests/migrations/fixtures"
WORK=$(mktemp -d /tmp/pushauth-fixtures.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

git -C "$REPO" archive "$RELEASE" | tar -x -C "$WORK"
python3 -m venv "$WORK/.venv"
"$WORK/.venv/bin/pip" install -q "$WORK[test]"
cp "$REPO/scripts/migration_fixtures/populate_7f053d1.py" "$WORK/"

cd "$WORK"
"$WORK/.venv/bin/python" populate_7f053d1.py "sqlite+aiosqlite:///$WORK/old.db"
sqlite3 "$WORK/old.db" .dump > "$OUT/$RELEASE.sqlite.sql"

BASE_DSN=${PG_DSN%/*}
psql -q "$PG_DSN" -c "DROP DATABASE IF EXISTS $FIXTURE_DB" -c "CREATE DATABASE $FIXTURE_DB"
"$WORK/.venv/bin/python" populate_7f053d1.py "${PG_URL%/*}/$FIXTURE_DB"
# pg_dump's psql meta-commands (\restrict, on newer versions) are not SQL: left out.
pg_dump --inserts --no-owner --no-privileges --schema=public "$BASE_DSN/$FIXTURE_DB" \
    | grep -v '^\\' > "$OUT/$RELEASE.postgres.sql"
psql -q "$PG_DSN" -c "DROP DATABASE $FIXTURE_DB"
echo "wrote $OUT/$RELEASE.sqlite.sql and $OUT/$RELEASE.postgres.sql"

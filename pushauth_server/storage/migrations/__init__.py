"""The schema's Alembic migrations (env.py, versions/); run through storage/migrate.py."""

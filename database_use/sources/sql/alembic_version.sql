-- The revision(s) alembic recorded in the database (one row per head); only run when the
-- live snapshot holds an alembic_version table (its name comes from the snapshot, quoted).
SELECT version_num::text FROM {table} ORDER BY 1

-- What the connected (agent) role may do to the app's data, for doctor's strict-mode lines:
-- the tables it may INSERT, UPDATE, DELETE or TRUNCATE, and which of the project's sensitive
-- columns (the sensitive parameter, e.g. pw_hashed) it may SELECT. Names schema-qualified, sorted.
SELECT
    ARRAY(
        SELECT n.nspname || '.' || c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'f')
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND (has_table_privilege(c.oid, 'DELETE, TRUNCATE')
               OR has_any_column_privilege(c.oid, 'INSERT, UPDATE'))
        ORDER BY 1
    ) AS dml_tables,
    ARRAY(
        SELECT n.nspname || '.' || c.relname || '.' || a.attname FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY(%(sensitive)s::text[])
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND has_column_privilege(c.oid, a.attnum, 'SELECT')
        ORDER BY 1
    ) AS sensitive_readable

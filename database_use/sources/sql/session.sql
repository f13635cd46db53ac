-- First round trip: pin the session for the catalog reads that follow and list the schemas.
-- search_path = pg_catalog, public makes format_type/pg_get_expr qualify user types and
-- sequences exactly when they live outside public (the snapshot convention).
-- The statement timeout is only set when the connection has none (SET LOCAL semantics).
-- transaction_read_only makes this transaction read-only even on a read-write connection
-- (switching to read-only is allowed at any point of a transaction).
SELECT
    set_config('transaction_read_only', 'on', true) AS read_only,
    set_config('search_path', 'pg_catalog, public', true) AS search_path,
    set_config(
        'statement_timeout',
        CASE current_setting('statement_timeout')
            WHEN '0' THEN %(timeout)s
            ELSE current_setting('statement_timeout')
        END,
        true
    ) AS statement_timeout,
    ARRAY(
        SELECT n.nspname::text
        FROM pg_catalog.pg_namespace n
        WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
        ORDER BY n.nspname
    ) AS schemas,
    ARRAY(
        SELECT ARRAY[n.nspname::text, d.description]
        FROM pg_catalog.pg_namespace n
        JOIN pg_catalog.pg_description d
            ON d.objoid = n.oid AND d.classoid = 'pg_catalog.pg_namespace'::regclass
        WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
          -- initdb's own comment on public is no fact of this schema
          AND NOT (n.nspname = 'public' AND d.description = 'standard public schema')
        ORDER BY n.nspname
    ) AS schema_comments

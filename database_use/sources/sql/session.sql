-- database_use_ledger (strict mode's record of applied changes, changes/ledger.py) is no app schema.
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
    ) AS schemas

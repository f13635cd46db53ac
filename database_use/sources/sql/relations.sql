-- Tables, partitioned tables, partitions, views, materialized views and foreign tables of the
-- selected schemas, in one round trip; objects that belong to an extension are left out.
-- A partitioned table carries its key (pg_get_partkeydef), a partition its parent and bound.
-- size is the planner's estimate (relpages of the table, its TOAST table and its indexes,
-- as of the last VACUUM/ANALYZE/CREATE INDEX): pg_total_relation_size stats every file of
-- every relation and made this query the slowest part of introspecting 1,000 tables.
SELECT
    c.oid,
    n.nspname::text,
    c.relname::text,
    c.relkind::text,
    d.description,
    c.reltuples::bigint,
    CASE WHEN c.relkind IN ('r', 'p', 'm') THEN (
        c.relpages::bigint
        + COALESCE((SELECT t.relpages FROM pg_catalog.pg_class t WHERE t.oid = c.reltoastrelid), 0)
        + COALESCE((SELECT sum(ic.relpages) FROM pg_catalog.pg_index i
                    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                    WHERE i.indrelid = c.oid), 0)
    )::bigint * current_setting('block_size')::bigint END,
    CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END,
    CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
    pn.nspname::text || '.' || pc.relname::text,
    CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END,
    c.relrowsecurity,
    c.relforcerowsecurity
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
LEFT JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend e
      WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
  )
ORDER BY n.nspname, c.relname

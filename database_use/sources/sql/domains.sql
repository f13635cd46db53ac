-- Domains of the selected schemas with their CHECK constraints, one round trip: one row per
-- domain and check (a domain without checks has one row with NULL check columns). The base
-- type is format_type's spelling (itself a domain for a domain over a domain); the collation
-- only where it is not the base type's default. Extension members are left out.
SELECT
    n.nspname::text,
    t.typname::text,
    pg_catalog.format_type(t.typbasetype, t.typtypmod),
    t.typnotnull,
    t.typdefault,
    CASE WHEN t.typcollation <> bt.typcollation THEN co.collname::text END,
    d.description,
    con.conname::text,
    pg_catalog.pg_get_expr(con.conbin, 0),
    con.convalidated,
    cd.description
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation
LEFT JOIN pg_catalog.pg_constraint con ON con.contypid = t.oid AND con.contype = 'c'
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::regclass AND d.objsubid = 0
LEFT JOIN pg_catalog.pg_description cd
    ON cd.objoid = con.oid AND cd.classoid = 'pg_catalog.pg_constraint'::regclass
WHERE t.typtype = 'd'
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend e
      WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'
  )
ORDER BY n.nspname, t.typname, con.conname

-- Extensions installed in the selected schemas, one round trip. Those in pg_catalog (plpgsql)
-- are left out, so a fresh database's snapshot holds none.
SELECT e.extname::text, e.extversion::text, n.nspname::text
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE n.nspname <> 'pg_catalog'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
ORDER BY e.extname

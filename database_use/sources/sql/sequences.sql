-- Sequences of the selected schemas, one round trip. Those behind identity columns
-- (pg_depend deptype 'i') are left out, the column says it; a serial column's sequence
-- (deptype 'a') names the column that owns it. Extension members are left out.
SELECT
    n.nspname::text,
    c.relname::text,
    pg_catalog.format_type(s.seqtypid, NULL),
    s.seqstart,
    s.seqincrement,
    s.seqmin,
    s.seqmax,
    s.seqcycle,
    s.seqcache,
    tn.nspname::text || '.' || tc.relname::text || '.' || ta.attname::text,
    d.description,
    c.oid
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_depend dep
    ON dep.classid = 'pg_catalog.pg_class'::regclass AND dep.objid = c.oid
   AND dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.deptype = 'a'
LEFT JOIN pg_catalog.pg_class tc ON tc.oid = dep.refobjid
LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_catalog.pg_attribute ta ON ta.attrelid = dep.refobjid AND ta.attnum = dep.refobjsubid
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend e
      WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid
        AND e.deptype IN ('e', 'i')
  )
ORDER BY n.nspname, c.relname

-- Range types of the selected schemas, one round trip. The subtype's operator class and the
-- collation only where they are not the subtype's defaults; canonical and subtype_diff
-- functions schema-qualified; the multirange type (PostgreSQL 14+) in format_type's spelling.
SELECT
    n.nspname::text,
    t.typname::text,
    pg_catalog.format_type(r.rngsubtype, NULL),
    CASE WHEN NOT opc.opcdefault THEN opc.opcname::text END,
    CASE WHEN r.rngcollation <> st.typcollation THEN co.collname::text END,
    cn.nspname::text || '.' || cp.proname::text,
    dn.nspname::text || '.' || dp.proname::text,
    /*pg14: pg_catalog.format_type(r.rngmultitypid, NULL) */ NULL /*end*/,
    d.description
FROM pg_catalog.pg_range r
JOIN pg_catalog.pg_type t ON t.oid = r.rngtypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
LEFT JOIN pg_catalog.pg_collation co ON co.oid = r.rngcollation
LEFT JOIN pg_catalog.pg_proc cp ON cp.oid = r.rngcanonical
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = cp.pronamespace
LEFT JOIN pg_catalog.pg_proc dp ON dp.oid = r.rngsubdiff
LEFT JOIN pg_catalog.pg_namespace dn ON dn.oid = dp.pronamespace
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend e
      WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'
  )
ORDER BY n.nspname, t.typname

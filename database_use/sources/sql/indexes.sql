-- Indexes of the selected schemas that do not back a primary key, unique or exclusion
-- constraint (those are reported as constraints), one round trip. Key and INCLUDE columns
-- come from pg_get_indexdef per position (names or expression text); indoption carries
-- DESC (bit 1) and NULLS FIRST (bit 2) per key column; the operator class of each key column
-- is '' where it is the default one for the column's type (indclass holds key columns only).
-- A partition's copies of its parent's partitioned indexes (ic.relispartition) are left out:
-- the parent's index describes them; indexes declared on the partition itself are in.
SELECT
    i.indrelid,
    ic.relname::text,
    i.indisunique,
    am.amname::text,
    i.indnkeyatts,
    ARRAY(
        SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
        FROM generate_series(1, i.indnatts) AS k
        ORDER BY k
    ),
    i.indoption::int2[],
    pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
    ARRAY(
        SELECT CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname::text END
        FROM unnest(i.indclass::oid[]) WITH ORDINALITY AS k(opc_oid, ord)
        JOIN pg_catalog.pg_opclass opc ON opc.oid = k.opc_oid
        ORDER BY k.ord
    ),
    pg_catalog.pg_get_indexdef(i.indexrelid) ~ '\) NULLS NOT DISTINCT( |$)',
    d.description
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = i.indexrelid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
WHERE NOT ic.relispartition
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_constraint con
      WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
        AND con.contype IN ('p', 'u', 'x')
  )
ORDER BY i.indrelid, ic.relname

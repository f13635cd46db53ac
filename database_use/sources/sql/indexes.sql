-- Indexes of the selected schemas that do not back a primary key, unique or exclusion
-- constraint (those are reported as constraints), one round trip. Key and INCLUDE columns
-- are the column's name quoted as pg_get_indexdef quotes it (quote_ident), or, for an
-- expression (indkey 0), pg_get_indexdef's text of that position; indoption carries
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
        SELECT CASE WHEN i.indkey[k - 1] = 0
            THEN pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
            ELSE (SELECT pg_catalog.quote_ident(a.attname) FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1])
        END
        FROM generate_series(1, i.indnatts) AS k
        ORDER BY k
    ),
    i.indoption::int2[],
    pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
    ARRAY(
        SELECT (SELECT CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname::text END
                FROM pg_catalog.pg_opclass opc WHERE opc.oid = k.opc_oid)
        FROM unnest(i.indclass::oid[]) WITH ORDINALITY AS k(opc_oid, ord)
        ORDER BY k.ord
    ),
    /*pg15: i.indnullsnotdistinct */ false /*end*/,
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

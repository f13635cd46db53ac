-- Primary key, unique, foreign key, check and exclusion constraints of the selected schemas,
-- one round trip. Column lists keep the constraint's order, one index probe per column (a join
-- against the table's columns scanned all of them for every constraint). A partition shows
-- only what was declared on it: the clones of its parent's keys (conparentid <> 0, also the
-- clones a foreign key to a partitioned table gets per partition) and inherited checks (not
-- conislocal) are left out, the parent's row describes them. NULLS NOT DISTINCT is the index's
-- indnullsnotdistinct (PostgreSQL 15+; earlier versions have no such constraint).
SELECT
    con.conrelid,
    con.conname::text,
    con.contype::text,
    ARRAY(
        SELECT (SELECT a.attname::text FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = con.conrelid AND a.attnum = k.attnum)
        FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
        ORDER BY k.ord
    ),
    fn.nspname::text,
    fc.relname::text,
    ARRAY(
        SELECT (SELECT a.attname::text FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = con.confrelid AND a.attnum = k.attnum)
        FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
        ORDER BY k.ord
    ),
    con.confdeltype::text,
    con.confupdtype::text,
    con.condeferrable,
    con.condeferred,
    CASE
        WHEN con.contype = 'c' THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid)
        WHEN con.contype = 'x' THEN pg_catalog.pg_get_constraintdef(con.oid)
    END,
    con.convalidated,
    con.contype = 'u' AND /*pg15: COALESCE((SELECT ix.indnullsnotdistinct FROM pg_catalog.pg_index ix
        WHERE ix.indexrelid = con.conindid), false) */ false /*end*/,
    d.description
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = con.oid AND d.classoid = 'pg_catalog.pg_constraint'::regclass
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND con.conparentid = 0
  AND (con.conislocal OR NOT c.relispartition)
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
ORDER BY con.conrelid, con.conname

-- Functions, procedures, aggregates and window functions of the selected schemas, one round
-- trip; extension members are left out, and so are the functions PostgreSQL made itself
-- (deptype 'i': a range type's constructors and its multirange's). The body is prosrc, or the SQL-standard body
-- (BEGIN ATOMIC / RETURN, PostgreSQL 14+); an aggregate's parts come from pg_aggregate with
-- its functions schema-qualified (the body is assembled from them).
SELECT
    n.nspname::text,
    p.proname::text,
    pg_catalog.pg_get_function_identity_arguments(p.oid),
    p.prokind::text,
    pg_catalog.pg_get_function_arguments(p.oid),
    CASE WHEN p.prokind <> 'p' THEN pg_catalog.pg_get_function_result(p.oid) END,
    l.lanname::text,
    p.provolatile::text,
    p.proisstrict,
    p.prosecdef,
    p.proparallel::text,
    p.proleakproof,
    p.proconfig,
    /*pg14: CASE WHEN p.prosqlbody IS NOT NULL
        THEN pg_catalog.pg_get_function_sqlbody(p.oid) END */ NULL /*end*/,
    p.prosrc,
    d.description,
    tn.nspname::text || '.' || tf.proname::text,
    pg_catalog.format_type(a.aggtranstype, NULL),
    fn.nspname::text || '.' || ff.proname::text,
    a.agginitval,
    p.oid
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
LEFT JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
LEFT JOIN pg_catalog.pg_proc tf ON tf.oid = a.aggtransfn
LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = tf.pronamespace
LEFT JOIN pg_catalog.pg_proc ff ON ff.oid = a.aggfinalfn
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = ff.pronamespace
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::regclass AND d.objsubid = 0
WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend e
      WHERE e.classid = 'pg_catalog.pg_proc'::regclass AND e.objid = p.oid
        AND e.deptype IN ('e', 'i')
  )
ORDER BY n.nspname, p.proname, 3

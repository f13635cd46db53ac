-- User triggers of the selected schemas' relations, one round trip: not the internal ones
-- behind foreign keys, and not a partition's clones of its parent's trigger (PostgreSQL 13+:
-- tgparentid), which the parent's row describes. The function is given as a call text
-- (quoted where needed); WHEN and the rest come from pg_get_triggerdef, parsed in Python.
SELECT
    t.tgrelid,
    t.tgname::text,
    t.tgtype::int,
    t.tgattr::int2[],
    pg_catalog.quote_ident(fn.nspname) || '.' || pg_catalog.quote_ident(f.proname),
    t.tgargs,
    t.tgnargs::int,
    t.tgenabled::text,
    t.tgconstraint <> 0,
    pg_catalog.pg_get_triggerdef(t.oid, true),
    t.tgrelid::regclass::text,
    d.description
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_proc f ON f.oid = t.tgfoid
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_trigger'::regclass
WHERE NOT t.tgisinternal
  AND /*pg13: t.tgparentid = 0 */ true /*end*/
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
ORDER BY t.tgrelid, t.tgname

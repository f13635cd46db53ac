-- Rewrite rules of the selected schemas' relations, one round trip; a view's own _RETURN
-- rule is the view and is left out.
SELECT
    r.ev_class,
    r.rulename::text,
    r.ev_type::text,
    pg_catalog.pg_get_ruledef(r.oid, true),
    r.ev_enabled::text,
    d.description
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = r.oid AND d.classoid = 'pg_catalog.pg_rewrite'::regclass
WHERE r.rulename <> '_RETURN'
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
ORDER BY r.ev_class, r.rulename

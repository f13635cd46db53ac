-- Row-level security policies of the selected schemas' tables, one round trip. Roles are
-- names, PUBLIC for "all roles" (oid 0), sorted in Python (not by the server's collation).
SELECT
    pol.polrelid,
    pol.polname::text,
    pol.polcmd::text,
    pol.polpermissive,
    ARRAY(
        SELECT CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(r.oid)::text END
        FROM unnest(pol.polroles) AS r(oid)
    ),
    pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
    pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
    d.description
FROM pg_catalog.pg_policy pol
JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
    ON d.objoid = pol.oid AND d.classoid = 'pg_catalog.pg_policy'::regclass
WHERE n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
ORDER BY pol.polrelid, pol.polname

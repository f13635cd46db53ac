-- Privileges on the selected schemas' tables (and their columns), sequences, functions and
-- the schemas themselves, one round trip: one row per object, grantee and privilege. The
-- built-in defaults count (aclexplode of COALESCE(acl, acldefault(...))), so EXECUTE to
-- PUBLIC on functions shows whether or not anything was granted; the owner's own rights are
-- left out. A schema whose privileges are still those initdb gave it (public) has none here.
-- Rows of objects the snapshot leaves out (extension members, identity sequences) are
-- dropped when the snapshot is assembled.
SELECT
    CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END,
    c.oid,
    NULL::text,
    CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END,
    x.privilege_type,
    x.is_grantable
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(
    c.relacl,
    pg_catalog.acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)
)) AS x
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND x.grantee <> c.relowner
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
UNION ALL
SELECT
    'column',
    c.oid,
    a.attname::text,
    CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END,
    x.privilege_type,
    x.is_grantable
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) AS x
WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
  AND x.grantee <> c.relowner
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
UNION ALL
SELECT
    'function',
    p.oid,
    NULL,
    CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END,
    x.privilege_type,
    x.is_grantable
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(
    COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))
) AS x
WHERE x.grantee <> p.proowner
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
UNION ALL
SELECT
    'schema',
    n.oid,
    n.nspname::text,
    CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END,
    x.privilege_type,
    x.is_grantable
FROM pg_catalog.pg_namespace n
CROSS JOIN LATERAL pg_catalog.aclexplode(
    COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))
) AS x
WHERE x.grantee <> n.nspowner
  AND n.nspname !~ '^pg_' AND n.nspname NOT IN ('information_schema', 'database_use_ledger')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspacl IS DISTINCT FROM (
      SELECT ip.initprivs FROM pg_catalog.pg_init_privs ip
      WHERE ip.objoid = n.oid AND ip.classoid = 'pg_catalog.pg_namespace'::regclass
        AND ip.objsubid = 0
  )

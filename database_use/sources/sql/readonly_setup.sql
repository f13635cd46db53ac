-- What `roles readonly-setup` plans from: the database, whether the role name is taken, the
-- app's schemas (every non-system schema, as introspect lists them) and those in which PUBLIC
-- may CREATE (PostgreSQL before 15 grants that on `public`; the read-only check refuses it).
SELECT
    current_database()::text AS database,
    EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s) AS role_exists,
    ARRAY(
        SELECT n.nspname::text FROM pg_namespace n
        WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
        ORDER BY n.nspname
    ) AS schemas,
    ARRAY(
        SELECT n.nspname::text FROM pg_namespace n
        WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND has_schema_privilege('public', n.oid, 'CREATE')
        ORDER BY n.nspname
    ) AS public_create

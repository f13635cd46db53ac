-- Can the connected role write anything? One row; every flag but may_create_roles is false
-- for a read-only role. Used before every read-only script run that has DATABASE_READONLY_URL
-- (a grant is the guard, not a session default), and by doctor on DATABASE_URL's role too.
-- Object owners and members of an owner count as owners.
SELECT
    current_user AS role_name,
    r.rolsuper AS superuser,
    -- Not a write by itself; doctor and `roles readonly-setup` ask whether this role may make one.
    (r.rolsuper OR r.rolcreaterole) AS may_create_roles,
    (r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls) AS role_attributes,
    EXISTS (
        SELECT 1 FROM pg_roles g
        WHERE g.rolname IN ('pg_write_server_files', 'pg_execute_server_program',
                            'pg_write_all_data', 'pg_read_server_files')
          AND pg_has_role(current_user, g.oid, 'MEMBER')
    ) AS server_roles,
    pg_has_role(current_user, d.datdba, 'MEMBER') AS owns_database,
    EXISTS (
        SELECT 1 FROM pg_namespace n
        WHERE pg_has_role(current_user, n.nspowner, 'MEMBER')
          AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
    ) AS owns_schema,
    EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE pg_has_role(current_user, c.relowner, 'MEMBER')
          AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
    ) AS owns_relation,
    has_database_privilege(current_database(), 'CREATE') AS create_in_database,
    EXISTS (
        SELECT 1 FROM pg_namespace n
        WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
          AND has_schema_privilege(n.oid, 'CREATE')
    ) AS create_in_schema,
    EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
          AND (has_table_privilege(c.oid, 'DELETE, TRUNCATE, TRIGGER')
               OR has_any_column_privilege(c.oid, 'INSERT, UPDATE, REFERENCES'))
    ) AS table_writes,
    -- TRIGGER lets a role CREATE TRIGGER on the table, REFERENCES lets it point a foreign key
    -- at it: both are schema changes (strict mode's list), not only writes.
    EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
          AND (has_table_privilege(c.oid, 'TRIGGER')
               OR has_any_column_privilege(c.oid, 'REFERENCES'))
    ) AS table_ddl_grants,
    -- A SECURITY DEFINER function runs with its owner's rights (PUBLIC may EXECUTE a function
    -- unless revoked): one the app's owner wrote can change the schema for its caller.
    EXISTS (
        SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND p.proowner <> r.oid
          AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                            AND d.deptype = 'e')
          AND has_function_privilege(p.oid, 'EXECUTE')
    ) AS definer_functions,
    EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'S' AND n.nspname NOT LIKE 'pg\_%'
          -- CASE: the planner may run the check before the relkind filter
          AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'USAGE, UPDATE') END
    ) AS sequence_writes
FROM pg_roles r, pg_database d
WHERE r.rolname = current_user AND d.datname = current_database()

-- What `roles setup` plans the agent role from (besides readonly_setup.sql): whether the owner
-- role exists, every app table with its columns (the sensitive ones get column-level SELECT)
-- and the sequences its columns own (serial / identity: USAGE for --dml).
SELECT
    EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(owner)s) AS owner_exists,
    COALESCE((
        SELECT json_agg(json_build_object(
            'schema', n.nspname,
            'name', c.relname,
            'kind', c.relkind,
            'columns', ARRAY(
                SELECT a.attname::text FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum),
            'sequences', ARRAY(
                SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname)
                FROM pg_depend d
                JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                JOIN pg_namespace sn ON sn.oid = s.relnamespace
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.refobjid = c.oid AND d.deptype IN ('a', 'i')
                ORDER BY 1)
        ) ORDER BY n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
    ), '[]'::json) AS tables

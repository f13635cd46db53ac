-- Who owns the ledger, and whether the connected role is (or may act as) that owner: a ledger
-- someone else made first must not be written into as if it were the owner's.
SELECT
    pg_get_userbyid(n.nspowner)::text AS schema_owner,
    pg_get_userbyid(c.relowner)::text AS table_owner,
    pg_has_role(current_user, n.nspowner, 'USAGE')
        AND pg_has_role(current_user, c.relowner, 'USAGE') AS ours
FROM pg_catalog.pg_namespace n
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = 'applied_changes'
WHERE n.nspname = 'database_use_ledger'

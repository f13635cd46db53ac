-- Strict mode's ledger of applied changes, made by the owner role's own apply on first use and
-- owned by it: PUBLIC (the agent's role too) may read it, only the owner may write or drop it.
-- Left out of every catalog read above (introspect, compare, the schema hash).
CREATE SCHEMA IF NOT EXISTS database_use_ledger;
CREATE TABLE IF NOT EXISTS database_use_ledger.applied_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user,
    proposal_id text NOT NULL UNIQUE,
    summary text NOT NULL,
    table_name text NOT NULL,
    sql_text text NOT NULL,
    sql_sha256 text NOT NULL,
    schema_hash_before text NOT NULL,
    schema_hash_after text NOT NULL,
    approved_via text NOT NULL
);
REVOKE ALL ON SCHEMA database_use_ledger FROM PUBLIC;
GRANT USAGE ON SCHEMA database_use_ledger TO PUBLIC;
REVOKE ALL ON database_use_ledger.applied_changes FROM PUBLIC;
GRANT SELECT ON database_use_ledger.applied_changes TO PUBLIC;

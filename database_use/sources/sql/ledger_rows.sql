-- Every ledger row, oldest first (NULL table: there is no ledger; the caller checks first).
SELECT id, applied_at, applied_by, proposal_id, summary, table_name, sql_text, sql_sha256,
    schema_hash_before, schema_hash_after, approved_via
FROM database_use_ledger.applied_changes
ORDER BY id

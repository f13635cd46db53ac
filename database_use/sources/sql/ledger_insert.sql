-- One applied change, written in the apply's own transaction (so: only if it commits).
INSERT INTO database_use_ledger.applied_changes
    (applied_by, proposal_id, summary, table_name, sql_text, sql_sha256,
     schema_hash_before, schema_hash_after, approved_via)
VALUES (current_user, %(proposal_id)s, %(summary)s, %(table_name)s, %(sql_text)s,
        %(sql_sha256)s, %(schema_hash_before)s, %(schema_hash_after)s, %(approved_via)s)
RETURNING id, applied_at, applied_by, proposal_id, summary, table_name, sql_text, sql_sha256,
    schema_hash_before, schema_hash_after, approved_via

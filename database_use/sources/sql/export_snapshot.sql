-- Before a second session reads part of the catalog (sources/live.py, SIDE_QUERIES): this
-- transaction's snapshot, for that session to import (SET TRANSACTION SNAPSHOT), so both read
-- the same server as of the same moment. NULL on a standby, where snapshots cannot be exported.
SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE pg_catalog.pg_export_snapshot() END

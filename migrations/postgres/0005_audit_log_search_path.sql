-- The append check (audit_log_extends_tip) reads `audit_log` by its bare name. A session's own
-- temporary tables come first in the default search_path, so a serving role that may create a
-- temporary table could shadow the log with one and make any row pass as the next link. Fixing
-- the function's search_path to the log's schema, with pg_temp last, closes that: the bare name
-- always means the real table.
ALTER FUNCTION audit_log_extends_tip() SET search_path = public, pg_temp;
ALTER FUNCTION audit_log_append_only() SET search_path = public, pg_temp;

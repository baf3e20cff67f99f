-- `INSERT OR REPLACE` (and `REPLACE INTO`) resolves a UNIQUE conflict by deleting the old row, and
-- SQLite does not fire delete triggers for that unless `recursive_triggers` is on, a per-connection
-- pragma anyone with the file leaves off. So a row that collides on any unique column is refused
-- here, before the conflict is resolved, whatever the connection's pragmas. A collision on `seq` or
-- `prev_hash` is already refused by audit_log_extends_tip (the next seq and the tip's hash are on no
-- row yet); this covers `id`, `hash` and `intent_seq` (a forged second outcome replacing the first).
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
  OR EXISTS (SELECT 1 FROM audit_log WHERE hash = NEW.hash)
  OR EXISTS (SELECT 1 FROM audit_log WHERE intent_seq = NEW.intent_seq)
BEGIN
    SELECT RAISE(ABORT, 'audit log rows cannot be replaced');
END;

-- facefile library, schema version 4: the rights audit log (0002_rights.sql) refuses UPDATE and DELETE.
-- Until version 3 these triggers were created by library/rights.py with the log's first entry (the
-- migration runner used to split scripts on every ';', which a trigger body contains). A library
-- that already logged something has them, one that did not gets them here: IF NOT EXISTS.
CREATE TRIGGER IF NOT EXISTS rights_audit_no_update BEFORE UPDATE ON rights_audit
BEGIN
    SELECT RAISE(ABORT, 'the rights audit log is append-only');
END;

CREATE TRIGGER IF NOT EXISTS rights_audit_no_delete BEFORE DELETE ON rights_audit
BEGIN
    SELECT RAISE(ABORT, 'the rights audit log is append-only');
END;

-- SPDX-License-Identifier: GPL-2.0-or-later
--
-- biogate fleet center, schema version 1: the roster, operator IDs, sealed templates,
-- revocations, shifts, the session registry, every terminal's audit records, disposals and
-- incidents, in the schema biogate_fleet, with one PostgreSQL role per terminal and one group
-- role for the city's admins.
--
-- Run it once as a role that may create roles and owns the database (the database owner with
-- CREATEROLE, or postgres):  psql -v ON_ERROR_STOP=1 -f 001-init.sql DBNAME
-- It is one transaction: a failure anywhere leaves the database as it was.
-- Applying it again changes nothing: every statement is written to be repeated (IF NOT
-- EXISTS, CREATE OR REPLACE, DROP POLICY IF EXISTS before CREATE POLICY), so an interrupted
-- or doubled `biogatectl fleet init` is harmless. A later migration is a new file
-- (002-...sql) that records its own version in schema_version; a runner applies only the
-- files above the highest recorded version.
--
-- What this file must guarantee even against a stolen terminal credential (the terminal's
-- role and password or client key):
--  * a terminal inserts audit records and sessions only under its own name, and nobody
--    (terminal or admin) updates or deletes an audit record;
--  * a terminal cannot read nationality (R7): it holds no SELECT privilege on that column;
--  * only the admin role changes the roster (staff, operator IDs, shifts, disposals). The one
--    roster change a terminal can cause is a revocation (R4: revoke from any terminal), and a
--    revocation only ever takes rights away;
--  * templates are stored sealed (AES-256-GCM under the fleet template key, which each
--    terminal receives as a systemd credential); the key never enters PostgreSQL.
-- NOTIFY payloads are wake-up calls, never the truth: any role with a connection can NOTIFY
-- any channel, so a terminal that hears one reads the revocations table (id > the last one it
-- applied) instead of trusting the payload.

BEGIN;
-- Two admins running init at once: the second waits, then finds everything in place.
SET LOCAL client_min_messages = warning;
DO $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('biogate_fleet migration')); END $$;

CREATE SCHEMA IF NOT EXISTS biogate_fleet;
REVOKE ALL ON SCHEMA biogate_fleet FROM PUBLIC;

-- Roles are cluster-wide and CREATE ROLE has no IF NOT EXISTS.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'biogate_fleet_admin') THEN
		CREATE ROLE biogate_fleet_admin NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'biogate_fleet_terminal') THEN
		CREATE ROLE biogate_fleet_terminal NOLOGIN;
	END IF;
END
$$;
COMMENT ON ROLE biogate_fleet_admin IS 'biogate fleet: the city''s admins (GRANT it to their login roles)';
COMMENT ON ROLE biogate_fleet_terminal IS 'biogate fleet: every terminal role is a member (created by biogate_fleet.add_terminal)';

GRANT USAGE ON SCHEMA biogate_fleet TO biogate_fleet_admin, biogate_fleet_terminal;

CREATE TABLE IF NOT EXISTS biogate_fleet.schema_version (
	version integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per terminal. The terminal writes only its own heartbeat columns.
CREATE TABLE IF NOT EXISTS biogate_fleet.terminals (
	name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
	role_name text UNIQUE NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	last_seen timestamptz,
	queued bigint NOT NULL DEFAULT 0,
	local_seq bigint NOT NULL DEFAULT 0,
	offline_since timestamptz
);

-- The roster (R6). Same fields as the terminal's SQLite store; times here are timestamptz.
CREATE TABLE IF NOT EXISTS biogate_fleet.staff (
	matching_id text PRIMARY KEY,
	unix_user text UNIQUE NOT NULL,
	name text NOT NULL,
	affiliation text NOT NULL,
	expertise text,
	track_record text,
	nationality text NOT NULL,
	pledge_date date,
	training_date date,
	state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked')),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS biogate_fleet.operators (
	operator_id text PRIMARY KEY,
	matching_id text NOT NULL REFERENCES biogate_fleet.staff (matching_id),
	role text NOT NULL,
	state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked')),
	granted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS operators_by_staff ON biogate_fleet.operators (matching_id);

-- Sealed templates: AES-256-GCM output of the terminal that enrolled the finger. Deleted
-- (not flagged) by a revocation.
CREATE TABLE IF NOT EXISTS biogate_fleet.templates (
	matching_id text NOT NULL REFERENCES biogate_fleet.staff (matching_id),
	finger text NOT NULL,
	sealed bytea NOT NULL CHECK (length(sealed) BETWEEN 29 AND 65536),
	enrolled_at timestamptz NOT NULL DEFAULT now(),
	enrolled_on text REFERENCES biogate_fleet.terminals (name),
	PRIMARY KEY (matching_id, finger)
);

-- Revocations (R4): append-only; the trigger below applies each one at the center and wakes
-- every terminal.
CREATE TABLE IF NOT EXISTS biogate_fleet.revocations (
	id bigserial PRIMARY KEY,
	matching_id text NOT NULL REFERENCES biogate_fleet.staff (matching_id),
	reason text NOT NULL CHECK (reason IN ('departed', 'transferred', 'suspected-leak', 'other')),
	revoked_at timestamptz NOT NULL DEFAULT now(),
	revoked_on text REFERENCES biogate_fleet.terminals (name),
	actor text NOT NULL DEFAULT session_user
);

CREATE TABLE IF NOT EXISTS biogate_fleet.shifts (
	id bigserial PRIMARY KEY,
	matching_id text NOT NULL REFERENCES biogate_fleet.staff (matching_id),
	start_at timestamptz NOT NULL,
	end_at timestamptz NOT NULL,
	imported_at timestamptz NOT NULL DEFAULT now(),
	CHECK (end_at > start_at)
);
CREATE INDEX IF NOT EXISTS shifts_by_staff ON biogate_fleet.shifts (matching_id, start_at);

-- The session registry (R12 across terminals): at most one open session per matching ID in
-- the whole fleet. lease_until is pushed forward by the owning terminal's heartbeat; a
-- session whose lease ran out belongs to a terminal that died and is reaped.
CREATE TABLE IF NOT EXISTS biogate_fleet.sessions (
	id bigserial PRIMARY KEY,
	terminal text NOT NULL REFERENCES biogate_fleet.terminals (name),
	local_id bigint NOT NULL,
	matching_id text NOT NULL REFERENCES biogate_fleet.staff (matching_id),
	operator_id text NOT NULL REFERENCES biogate_fleet.operators (operator_id),
	opened_at timestamptz NOT NULL DEFAULT now(),
	lease_until timestamptz NOT NULL,
	closed_at timestamptz,
	close_reason text,
	CHECK ((closed_at IS NULL) = (close_reason IS NULL)),
	UNIQUE (terminal, local_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_one_open ON biogate_fleet.sessions (matching_id)
	WHERE closed_at IS NULL;

-- Every terminal's audit trail, record for record as the terminal chained it (the MAC is the
-- terminal's chain MAC, so an auditor holding that terminal's audit key verifies the chain
-- here). (terminal, seq) is the identity of a record: an upload repeated after a crash
-- inserts nothing twice. terminal is the fleet's name for the uploader; rec_terminal is the
-- record's own terminal field as chained (the host name), kept apart because the MAC covers
-- it. time is microseconds since the epoch, as chained.
CREATE TABLE IF NOT EXISTS biogate_fleet.audit_records (
	terminal text NOT NULL REFERENCES biogate_fleet.terminals (name),
	seq bigint NOT NULL CHECK (seq > 0),
	time bigint NOT NULL,
	rec_terminal text,
	matching_id text,
	operator_id text,
	action text NOT NULL,
	outcome text NOT NULL,
	reason text,
	detail text,
	key_hmac text,
	mac bytea NOT NULL CHECK (length(mac) = 32),
	received_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (terminal, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_by_time ON biogate_fleet.audit_records (time);

CREATE TABLE IF NOT EXISTS biogate_fleet.disposals (
	id bigserial PRIMARY KEY,
	state text NOT NULL CHECK (state IN ('planned', 'approved', 'executed')),
	items text NOT NULL,
	media text NOT NULL,
	count integer NOT NULL,
	method text NOT NULL,
	planned_date date NOT NULL,
	planned_by text NOT NULL,
	planned_at timestamptz NOT NULL DEFAULT now(),
	approved_by text,
	approved_at timestamptz,
	executed_by text,
	executed_at timestamptz,
	result text
);

-- Incidents found by terminals (R17), e.g. on reconnect: a person logged in offline at two
-- terminals, a login after a revocation made during the cut.
CREATE TABLE IF NOT EXISTS biogate_fleet.incidents (
	id bigserial PRIMARY KEY,
	terminal text NOT NULL REFERENCES biogate_fleet.terminals (name),
	at timestamptz NOT NULL DEFAULT now(),
	kind text NOT NULL,
	matching_id text,
	detail text
);

-- The terminal the current role is, or NULL. Policies run as the querying role, so
-- current_user is the terminal's own role; SECURITY DEFINER functions below use session_user.
CREATE OR REPLACE FUNCTION biogate_fleet.my_terminal() RETURNS text
	LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
	AS $$ SELECT name FROM biogate_fleet.terminals WHERE role_name = current_user $$;

CREATE OR REPLACE FUNCTION biogate_fleet.session_terminal() RETURNS text
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text;
BEGIN
	SELECT name INTO t FROM biogate_fleet.terminals WHERE role_name = session_user;
	IF t IS NULL THEN
		RAISE EXCEPTION 'role % is not a biogate terminal', session_user
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN t;
END
$$;

-- Joins a terminal: creates its LOGIN role (no password: the admin sets one with ALTER ROLE
-- ... PASSWORD, or maps a client certificate in pg_hba.conf / pg_ident.conf) and its row.
-- Returns the role name. Idempotent for a name that already exists.
CREATE OR REPLACE FUNCTION biogate_fleet.add_terminal(terminal_name text) RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r text := 'biogate_t_' || terminal_name;
BEGIN
	IF terminal_name IS NULL OR terminal_name !~ '^[a-z0-9][a-z0-9_-]{0,39}$' THEN
		RAISE EXCEPTION 'invalid terminal name %', terminal_name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
		EXECUTE format('CREATE ROLE %I LOGIN IN ROLE biogate_fleet_terminal', r);
	ELSIF NOT pg_has_role(r, 'biogate_fleet_terminal', 'MEMBER') THEN
		RAISE EXCEPTION 'role % exists and is not a biogate terminal', r
			USING ERRCODE = 'duplicate_object';
	END IF;
	INSERT INTO biogate_fleet.terminals (name, role_name) VALUES (terminal_name, r)
		ON CONFLICT (name) DO NOTHING;
	RETURN r;
END
$$;

-- Opens a session in the registry for the calling terminal. Reaps this person's sessions
-- whose lease ran out first. Returns (id, NULL) on success, (NULL, holder terminal) when the
-- matching ID is already in an open session elsewhere (R12: AlreadyInSession names it), and
-- raises when the person or the operator ID is revoked.
CREATE OR REPLACE FUNCTION biogate_fleet.open_session(p_local_id bigint, p_matching_id text,
	p_operator_id text, p_lease_seconds integer)
	RETURNS TABLE (id bigint, holder text)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text := biogate_fleet.session_terminal();
	h text;
BEGIN
	IF p_lease_seconds IS NULL OR p_lease_seconds < 1 OR p_lease_seconds > 86400 THEN
		RAISE EXCEPTION 'lease out of range' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Serializes opens of one person across terminals (the unique index would too, but this
	-- lets the loser name the winner instead of failing).
	PERFORM pg_advisory_xact_lock(hashtext('biogate_fleet session ' || p_matching_id));
	IF NOT EXISTS (SELECT FROM biogate_fleet.operators o JOIN biogate_fleet.staff s
			USING (matching_id)
		WHERE o.operator_id = p_operator_id AND o.matching_id = p_matching_id
			AND o.state = 'active' AND s.state = 'active') THEN
		RAISE EXCEPTION 'revoked or unknown' USING ERRCODE = 'insufficient_privilege';
	END IF;
	UPDATE biogate_fleet.sessions s SET closed_at = now(), close_reason = 'lease-expired'
		WHERE s.matching_id = p_matching_id AND s.closed_at IS NULL
			AND s.lease_until < now();
	SELECT s.terminal INTO h FROM biogate_fleet.sessions s
		WHERE s.matching_id = p_matching_id AND s.closed_at IS NULL;
	IF h IS NOT NULL THEN
		RETURN QUERY SELECT NULL::bigint, h;
		RETURN;
	END IF;
	RETURN QUERY INSERT INTO biogate_fleet.sessions AS s (terminal, local_id, matching_id,
			operator_id, lease_until)
		VALUES (t, p_local_id, p_matching_id, p_operator_id,
			now() + make_interval(secs => p_lease_seconds))
		RETURNING s.id, NULL::text;
END
$$;

-- The terminal's heartbeat: it is alive, how much it still has to upload, and every open
-- session it holds keeps its lease. Returns the number of leases extended.
CREATE OR REPLACE FUNCTION biogate_fleet.heartbeat(p_lease_seconds integer, p_queued bigint,
	p_local_seq bigint)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t text := biogate_fleet.session_terminal();
	n integer;
BEGIN
	IF p_lease_seconds IS NULL OR p_lease_seconds < 1 OR p_lease_seconds > 86400 THEN
		RAISE EXCEPTION 'lease out of range' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE biogate_fleet.terminals SET last_seen = now(), queued = greatest(p_queued, 0),
		local_seq = greatest(p_local_seq, 0), offline_since = NULL
		WHERE name = t;
	UPDATE biogate_fleet.sessions SET lease_until = now() + make_interval(secs => p_lease_seconds)
		WHERE terminal = t AND closed_at IS NULL;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- Closes the sessions whose lease ran out (any terminal's); run by terminals in their
-- heartbeat round and by the admin. Returns how many it closed.
CREATE OR REPLACE FUNCTION biogate_fleet.reap_sessions() RETURNS integer
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n integer;
BEGIN
	UPDATE biogate_fleet.sessions SET closed_at = now(), close_reason = 'lease-expired'
		WHERE closed_at IS NULL AND lease_until < now();
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

-- Applies a revocation at the center in the same transaction as its row: the person and their
-- operator IDs revoked, their sealed templates deleted, their open sessions closed; then every
-- listening terminal is woken (delivered at commit, so never for a rolled-back revocation).
CREATE OR REPLACE FUNCTION biogate_fleet.revocation_apply() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	UPDATE biogate_fleet.staff SET state = 'revoked', updated_at = now()
		WHERE matching_id = NEW.matching_id;
	UPDATE biogate_fleet.operators SET state = 'revoked' WHERE matching_id = NEW.matching_id;
	DELETE FROM biogate_fleet.templates WHERE matching_id = NEW.matching_id;
	UPDATE biogate_fleet.sessions SET closed_at = now(), close_reason = 'revoked'
		WHERE matching_id = NEW.matching_id AND closed_at IS NULL;
	PERFORM pg_notify('biogate_revoke', json_build_object('id', NEW.id,
		'matching_id', NEW.matching_id, 'terminal', NEW.revoked_on)::text);
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER revocations_apply AFTER INSERT ON biogate_fleet.revocations
	FOR EACH ROW EXECUTE FUNCTION biogate_fleet.revocation_apply();

-- Roster changes wake terminals so their caches refill (payload: the matching ID).
CREATE OR REPLACE FUNCTION biogate_fleet.roster_notify() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM pg_notify('biogate_roster', CASE WHEN TG_OP = 'DELETE' THEN OLD.matching_id
		ELSE NEW.matching_id END);
	RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER staff_notify AFTER INSERT OR UPDATE OR DELETE ON biogate_fleet.staff
	FOR EACH ROW EXECUTE FUNCTION biogate_fleet.roster_notify();
CREATE OR REPLACE TRIGGER operators_notify AFTER INSERT OR UPDATE OR DELETE
	ON biogate_fleet.operators FOR EACH ROW EXECUTE FUNCTION biogate_fleet.roster_notify();
CREATE OR REPLACE TRIGGER templates_notify AFTER INSERT OR UPDATE OR DELETE
	ON biogate_fleet.templates FOR EACH ROW EXECUTE FUNCTION biogate_fleet.roster_notify();

-- Audit records are append-only for everyone, the admin and the table owner included (a
-- privilege can be granted by mistake; this trigger has to be dropped on purpose).
CREATE OR REPLACE FUNCTION biogate_fleet.audit_append_only() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	RAISE EXCEPTION 'audit records are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE TRIGGER audit_records_no_update BEFORE UPDATE OR DELETE
	ON biogate_fleet.audit_records FOR EACH ROW EXECUTE FUNCTION biogate_fleet.audit_append_only();
CREATE OR REPLACE TRIGGER audit_records_no_truncate BEFORE TRUNCATE
	ON biogate_fleet.audit_records FOR EACH STATEMENT
	EXECUTE FUNCTION biogate_fleet.audit_append_only();

-- An upload is in order: a terminal's records arrive seq after seq, so a gap at the center
-- always means "not uploaded yet", never "lost". Checked once per statement over the rows it
-- inserted (a per-row check costs a lookup per record): no hole inside the batch, and the
-- record before the batch is there unless the center has nothing older from that terminal (a
-- terminal may have run standalone before joining). Rows skipped by ON CONFLICT DO NOTHING are
-- not in the transition table, so a repeated upload passes.
CREATE OR REPLACE FUNCTION biogate_fleet.audit_in_order() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	bad record;
BEGIN
	SELECT n.terminal, n.lo INTO bad
	FROM (SELECT terminal, min(seq) AS lo, max(seq) AS hi, count(*) AS c FROM new_rows
		GROUP BY terminal) n
	WHERE n.hi - n.lo + 1 <> n.c
		OR (EXISTS (SELECT FROM biogate_fleet.audit_records a
				WHERE a.terminal = n.terminal AND a.seq < n.lo)
			AND NOT EXISTS (SELECT FROM biogate_fleet.audit_records a
				WHERE a.terminal = n.terminal AND a.seq = n.lo - 1))
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'audit records of % from % out of order', bad.terminal, bad.lo
			USING ERRCODE = 'BG001';
	END IF;
	RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS audit_records_in_order ON biogate_fleet.audit_records;
CREATE TRIGGER audit_records_in_order AFTER INSERT ON biogate_fleet.audit_records
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION biogate_fleet.audit_in_order();

-- What the admin's `biogatectl fleet status` shows.
CREATE OR REPLACE VIEW biogate_fleet.fleet_status AS
	SELECT t.name, t.last_seen, t.queued, t.local_seq,
		coalesce(a.seq, 0) AS center_seq,
		greatest(t.local_seq - coalesce(a.seq, 0), 0) AS lag,
		(SELECT count(*) FROM biogate_fleet.sessions s
			WHERE s.terminal = t.name AND s.closed_at IS NULL) AS open_sessions
	FROM biogate_fleet.terminals t
	LEFT JOIN LATERAL (SELECT max(seq) AS seq FROM biogate_fleet.audit_records r
		WHERE r.terminal = t.name) a ON true;

-- Privileges. Nothing for PUBLIC; SECURITY DEFINER functions are executable by PUBLIC by
-- default, so that is taken away first.
REVOKE ALL ON ALL TABLES IN SCHEMA biogate_fleet FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA biogate_fleet FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA biogate_fleet FROM PUBLIC;
-- Terminal roles may have been given more by hand; they get exactly what is below.
REVOKE ALL ON ALL TABLES IN SCHEMA biogate_fleet FROM biogate_fleet_terminal;

GRANT SELECT ON biogate_fleet.schema_version TO biogate_fleet_admin, biogate_fleet_terminal;

-- Admin: the roster and everything derived from it; audit records read-only.
GRANT SELECT, INSERT, UPDATE, DELETE ON biogate_fleet.staff, biogate_fleet.operators,
	biogate_fleet.templates, biogate_fleet.shifts, biogate_fleet.disposals,
	biogate_fleet.incidents TO biogate_fleet_admin;
GRANT SELECT, INSERT ON biogate_fleet.revocations TO biogate_fleet_admin;
GRANT SELECT, UPDATE, DELETE ON biogate_fleet.sessions TO biogate_fleet_admin;
GRANT SELECT, DELETE ON biogate_fleet.terminals TO biogate_fleet_admin;
GRANT SELECT ON biogate_fleet.audit_records, biogate_fleet.fleet_status TO biogate_fleet_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA biogate_fleet TO biogate_fleet_admin;
GRANT EXECUTE ON FUNCTION biogate_fleet.add_terminal(text), biogate_fleet.reap_sessions()
	TO biogate_fleet_admin;

-- Terminal: reads the roster without nationality (R7: column privileges, so even SELECT *
-- fails); reads operator IDs, sealed templates, shifts, revocations; writes only under its
-- own name (row-level security below).
GRANT SELECT (matching_id, unix_user, name, affiliation, expertise, track_record, pledge_date,
	training_date, state, created_at, updated_at) ON biogate_fleet.staff TO biogate_fleet_terminal;
GRANT SELECT ON biogate_fleet.operators, biogate_fleet.shifts, biogate_fleet.revocations
	TO biogate_fleet_terminal;
GRANT SELECT, INSERT ON biogate_fleet.templates TO biogate_fleet_terminal;
GRANT UPDATE (sealed, enrolled_at, enrolled_on) ON biogate_fleet.templates TO biogate_fleet_terminal;
GRANT INSERT ON biogate_fleet.revocations TO biogate_fleet_terminal;
GRANT SELECT (name, last_seen) ON biogate_fleet.terminals TO biogate_fleet_terminal;
GRANT SELECT (role_name) ON biogate_fleet.terminals TO biogate_fleet_terminal;
GRANT SELECT, INSERT ON biogate_fleet.sessions TO biogate_fleet_terminal;
GRANT UPDATE (closed_at, close_reason) ON biogate_fleet.sessions TO biogate_fleet_terminal;
GRANT SELECT, INSERT ON biogate_fleet.audit_records TO biogate_fleet_terminal;
GRANT INSERT ON biogate_fleet.incidents TO biogate_fleet_terminal;
GRANT USAGE ON SEQUENCE biogate_fleet.revocations_id_seq, biogate_fleet.sessions_id_seq,
	biogate_fleet.incidents_id_seq TO biogate_fleet_terminal;
GRANT EXECUTE ON FUNCTION biogate_fleet.my_terminal(), biogate_fleet.session_terminal(),
	biogate_fleet.open_session(bigint, text, text, integer),
	biogate_fleet.heartbeat(integer, bigint, bigint), biogate_fleet.reap_sessions()
	TO biogate_fleet_terminal;

-- Row-level security: a terminal's writes carry its own name; it reads back only its own
-- sessions and audit records. The admin sees and (where granted) changes every row.
-- (SELECT my_terminal()) rather than my_terminal(): evaluated once per statement, not once per
-- row (a function with SET search_path is never inlined).
ALTER TABLE biogate_fleet.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE biogate_fleet.audit_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE biogate_fleet.revocations ENABLE ROW LEVEL SECURITY;
ALTER TABLE biogate_fleet.templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE biogate_fleet.incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE biogate_fleet.terminals ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS admin_all ON biogate_fleet.sessions;
CREATE POLICY admin_all ON biogate_fleet.sessions TO biogate_fleet_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS own_read ON biogate_fleet.sessions;
CREATE POLICY own_read ON biogate_fleet.sessions FOR SELECT TO biogate_fleet_terminal
	USING (terminal = (SELECT biogate_fleet.my_terminal()));
DROP POLICY IF EXISTS own_insert ON biogate_fleet.sessions;
CREATE POLICY own_insert ON biogate_fleet.sessions FOR INSERT TO biogate_fleet_terminal
	WITH CHECK (terminal = (SELECT biogate_fleet.my_terminal()));
DROP POLICY IF EXISTS own_close ON biogate_fleet.sessions;
CREATE POLICY own_close ON biogate_fleet.sessions FOR UPDATE TO biogate_fleet_terminal
	USING (terminal = (SELECT biogate_fleet.my_terminal()))
	WITH CHECK (terminal = (SELECT biogate_fleet.my_terminal()));

DROP POLICY IF EXISTS admin_read ON biogate_fleet.audit_records;
CREATE POLICY admin_read ON biogate_fleet.audit_records FOR SELECT TO biogate_fleet_admin USING (true);
DROP POLICY IF EXISTS own_read ON biogate_fleet.audit_records;
CREATE POLICY own_read ON biogate_fleet.audit_records FOR SELECT TO biogate_fleet_terminal
	USING (terminal = (SELECT biogate_fleet.my_terminal()));
DROP POLICY IF EXISTS own_insert ON biogate_fleet.audit_records;
CREATE POLICY own_insert ON biogate_fleet.audit_records FOR INSERT TO biogate_fleet_terminal
	WITH CHECK (terminal = (SELECT biogate_fleet.my_terminal()));

-- Every terminal reads every revocation (that is how it learns of them); it files its own.
DROP POLICY IF EXISTS admin_all ON biogate_fleet.revocations;
CREATE POLICY admin_all ON biogate_fleet.revocations TO biogate_fleet_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS all_read ON biogate_fleet.revocations;
CREATE POLICY all_read ON biogate_fleet.revocations FOR SELECT TO biogate_fleet_terminal USING (true);
DROP POLICY IF EXISTS own_insert ON biogate_fleet.revocations;
CREATE POLICY own_insert ON biogate_fleet.revocations FOR INSERT TO biogate_fleet_terminal
	WITH CHECK (revoked_on = (SELECT biogate_fleet.my_terminal()) AND actor = session_user);

-- Any terminal enrolls (enroll once, log in anywhere), for an active person only, under its
-- own name.
DROP POLICY IF EXISTS admin_all ON biogate_fleet.templates;
CREATE POLICY admin_all ON biogate_fleet.templates TO biogate_fleet_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS all_read ON biogate_fleet.templates;
CREATE POLICY all_read ON biogate_fleet.templates FOR SELECT TO biogate_fleet_terminal USING (true);
DROP POLICY IF EXISTS own_enroll ON biogate_fleet.templates;
CREATE POLICY own_enroll ON biogate_fleet.templates FOR INSERT TO biogate_fleet_terminal
	WITH CHECK (enrolled_on = (SELECT biogate_fleet.my_terminal()) AND EXISTS (SELECT FROM
		biogate_fleet.staff s WHERE s.matching_id = templates.matching_id AND s.state = 'active'));
DROP POLICY IF EXISTS own_reenroll ON biogate_fleet.templates;
CREATE POLICY own_reenroll ON biogate_fleet.templates FOR UPDATE TO biogate_fleet_terminal
	USING (true)
	WITH CHECK (enrolled_on = (SELECT biogate_fleet.my_terminal()) AND EXISTS (SELECT FROM
		biogate_fleet.staff s WHERE s.matching_id = templates.matching_id AND s.state = 'active'));

DROP POLICY IF EXISTS admin_all ON biogate_fleet.incidents;
CREATE POLICY admin_all ON biogate_fleet.incidents TO biogate_fleet_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS own_insert ON biogate_fleet.incidents;
CREATE POLICY own_insert ON biogate_fleet.incidents FOR INSERT TO biogate_fleet_terminal
	WITH CHECK (terminal = (SELECT biogate_fleet.my_terminal()));

DROP POLICY IF EXISTS admin_all ON biogate_fleet.terminals;
CREATE POLICY admin_all ON biogate_fleet.terminals TO biogate_fleet_admin USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS all_read ON biogate_fleet.terminals;
CREATE POLICY all_read ON biogate_fleet.terminals FOR SELECT TO biogate_fleet_terminal USING (true);

INSERT INTO biogate_fleet.schema_version (version) VALUES (1) ON CONFLICT (version) DO NOTHING;

COMMIT;

-- 002_kycd.sql: what cartevo-kycd needs on top of 001: job phases and
-- claim timestamps, outcome events tied to their job, and webhook
-- deliveries. Applied by "cartevoctl migrate" inside one transaction.

-- A job verifies, then (when asked or configured) enrolls. The phase is
-- committed with the verification outcome, so a job re-claimed after a
-- crash resumes where it was and never decides twice.
ALTER TABLE kyc_jobs
    ADD COLUMN phase text NOT NULL DEFAULT 'verify'
        CHECK (phase IN ('verify', 'enroll')),
    ADD COLUMN first_claimed_at timestamptz,
    ADD COLUMN claimed_at timestamptz,
    ADD COLUMN finished_at timestamptz;

-- Events the daemon writes carry the customer object as it was committed
-- with the outcome (data), and the job that decided them: the unique
-- index is what makes "one outcome event per job" a database invariant.
ALTER TABLE outbox_events
    ADD COLUMN data text,
    ADD COLUMN job_id bigint REFERENCES kyc_jobs (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX outbox_events_job_event_key
    ON outbox_events (job_id, event) WHERE job_id IS NOT NULL;

-- One delivery per event (one endpoint per company). body is frozen when
-- the delivery is created, so the id and bytes never change between
-- attempts; the signature (with the attempt's time) is computed per
-- attempt. window_start is when the retry window began (creation, or the
-- last operator replay).
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE
                    REFERENCES outbox_events (id) ON DELETE CASCADE,
    company_id      uuid NOT NULL REFERENCES companies (id),
    event           text NOT NULL,
    url             text NOT NULL,
    body            text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    window_start    timestamptz NOT NULL DEFAULT now(),
    lease_owner     text,
    lease_until     timestamptz,
    last_status     integer,
    last_error      text,
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due_idx
    ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_failed_idx
    ON webhook_deliveries (id) WHERE state = 'failed';

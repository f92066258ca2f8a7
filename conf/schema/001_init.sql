-- 001_init.sql: companies, API clients, customers, documents, KYC jobs and
-- the outbox. Constraints carry the invariants; the module relies on the
-- unique indexes below (by name) to answer 409 under concurrency.

CREATE TABLE companies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    kyb_status  text NOT NULL DEFAULT 'PENDING'
                CHECK (kyb_status IN ('PENDING', 'APPROVED', 'REJECTED')),
    webhook_url    text,
    webhook_secret text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Client keys are random 256-bit secrets, so a plain SHA-256 is a safe
-- verifier (no dictionary to attack); only the hash is stored.
CREATE TABLE api_clients (
    client_id   text PRIMARY KEY CHECK (client_id ~ '^cli_[0-9a-f]{32}$'),
    company_id  uuid NOT NULL REFERENCES companies (id),
    key_sha256  bytea NOT NULL CHECK (length(key_sha256) = 32),
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_clients_company_idx ON api_clients (company_id);

CREATE TABLE customers (
    id                    uuid PRIMARY KEY,
    seq                   bigserial NOT NULL UNIQUE,
    company_id            uuid NOT NULL REFERENCES companies (id),
    first_name            text NOT NULL,
    last_name             text NOT NULL,
    email                 text NOT NULL,
    country               text NOT NULL,
    street                text NOT NULL,
    city                  text NOT NULL,
    state                 text NOT NULL,
    postal_code           text NOT NULL,
    country_iso_code      text NOT NULL CHECK (country_iso_code ~ '^[A-Z]{2}$'),
    phone_country_code    text NOT NULL,
    phone_number          text NOT NULL,
    identification_number text NOT NULL,
    id_document_type      text NOT NULL
        CHECK (id_document_type IN ('NIN', 'PASSPORT', 'VOTERS_CARD', 'DRIVERS_LICENSE')),
    date_of_birth         date NOT NULL,
    is_active             boolean NOT NULL DEFAULT true,
    kyc_status            text NOT NULL DEFAULT 'PENDING'
        CHECK (kyc_status IN ('PENDING', 'APPROVED', 'REJECTED')),
    kyc_reason            text CHECK (kyc_reason IN ('UNREADABLE', 'LOW_RESOLUTION',
        'BLANK_IMAGE', 'MISSING_BACK', 'DOCUMENT_FETCH_FAILED', 'PROVIDER_REJECTED')),
    kyc_reason_message    text,
    enrollment_status     text NOT NULL DEFAULT 'NOT_ENROLLED'
        CHECK (enrollment_status IN ('NOT_ENROLLED', 'PENDING', 'ENROLLED', 'FAILED')),
    issuer_customer_id    text,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Uniqueness within a company (api-contract.md): email ignoring case;
-- identification number ignoring case, spaces and hyphens.
CREATE UNIQUE INDEX customers_email_key
    ON customers (company_id, lower(email));
CREATE UNIQUE INDEX customers_idnum_key
    ON customers (company_id, upper(translate(identification_number, ' -', '')));
CREATE INDEX customers_company_list_idx ON customers (company_id, created_at DESC, seq DESC);

CREATE TABLE customer_documents (
    customer_id  uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    side         text NOT NULL CHECK (side IN ('front', 'back')),
    storage_name text NOT NULL UNIQUE CHECK (storage_name ~ '^[0-9a-f]{32}$'),
    mime_type    text NOT NULL
        CHECK (mime_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size_bytes   bigint NOT NULL CHECK (size_bytes > 0),
    sha256       bytea NOT NULL CHECK (length(sha256) = 32),
    width        integer,
    height       integer,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, side)
);

-- Durable KYC work: the daemon claims due jobs with FOR UPDATE SKIP LOCKED
-- and a lease; the socket poke only wakes it up.
CREATE TABLE kyc_jobs (
    id              bigserial PRIMARY KEY,
    customer_id     uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    enroll          boolean NOT NULL DEFAULT false,
    state           text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_owner     text,
    lease_until     timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kyc_jobs_due_idx ON kyc_jobs (next_attempt_at) WHERE state IN ('queued', 'running');

-- Transactional outbox: events written in the same transaction as the
-- change they describe; the daemon turns them into webhook deliveries.
CREATE TABLE outbox_events (
    id          uuid PRIMARY KEY,
    company_id  uuid NOT NULL REFERENCES companies (id),
    customer_id uuid REFERENCES customers (id) ON DELETE CASCADE,
    event       text NOT NULL CHECK (event IN ('customer.created', 'customer.kyc_approved',
        'customer.kyc_rejected', 'customer.enrolled', 'customer.enrollment_failed')),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    dispatched_at timestamptz
);
CREATE INDEX outbox_events_pending_idx ON outbox_events (created_at) WHERE dispatched_at IS NULL;

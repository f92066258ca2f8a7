-- 003_api.sql: what the rest of the customer API needs on top of 002:
-- enroll by URL (the caller's URLs, a fetch phase), an exact O(1) count
-- per company for GET /customers, idempotency keys, and the document
-- identity and format that the store and encryption rely on
-- (../shared/design/decisions.md 1).

-- POST /customers/enroll: image / photo echo the caller's URLs in every
-- read and webhook; the documents are rows only once fetched.
ALTER TABLE customers
    ADD COLUMN front_url text CHECK (length(front_url) <= 2048),
    ADD COLUMN back_url  text CHECK (length(back_url) <= 2048);

-- document_id is what encryption binds to; format says how the file is
-- written, so files of an older format keep working until migrated.
ALTER TABLE customer_documents
    ADD COLUMN document_id uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN format text NOT NULL DEFAULT 'plain' CHECK (format IN ('plain'));
CREATE UNIQUE INDEX customer_documents_document_id_key
    ON customer_documents (document_id);

-- A job for an enrolled-by-URL customer starts by fetching its documents.
ALTER TABLE kyc_jobs DROP CONSTRAINT kyc_jobs_phase_check;
ALTER TABLE kyc_jobs ADD CONSTRAINT kyc_jobs_phase_check
    CHECK (phase IN ('fetch', 'verify', 'enroll'));

-- total for GET /customers, exact and O(1): a count spread over 16 rows
-- per company (slot = seq % 16), kept by triggers in the inserting
-- transaction, summed on read. One row would make every concurrent create
-- of a company queue behind its row lock until commit; consecutive seqs
-- land on different slots.
CREATE TABLE customer_counts (
    company_id uuid NOT NULL REFERENCES companies (id),
    slot       smallint NOT NULL CHECK (slot BETWEEN 0 AND 15),
    n          bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (company_id, slot)
);

-- Statement-level, over the transition table: one upsert per touched slot
-- per statement (a bulk load does not update one row a million times in
-- one transaction), slots taken in a fixed order so that concurrent
-- multi-row statements cannot deadlock on them.
CREATE FUNCTION customer_counts_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_counts AS cc (company_id, slot, n)
    SELECT company_id, seq % 16, count(*) FROM new_rows
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (company_id, slot) DO UPDATE SET n = cc.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION customer_counts_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_counts cc SET n = cc.n - o.k
      FROM (SELECT company_id, seq % 16 AS slot, count(*) AS k FROM old_rows
             GROUP BY 1, 2 ORDER BY 1, 2) o
     WHERE cc.company_id = o.company_id AND cc.slot = o.slot;
    RETURN NULL;
END
$$;

-- A customer never changes company; refusing it keeps the count exact.
CREATE FUNCTION customers_company_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'customers.company_id and seq cannot change';
END
$$;

CREATE TRIGGER customers_count_add AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_add();
CREATE TRIGGER customers_count_remove AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_remove();
CREATE TRIGGER customers_company_fixed BEFORE UPDATE OF company_id, seq ON customers
    FOR EACH ROW WHEN (OLD.company_id IS DISTINCT FROM NEW.company_id
                       OR OLD.seq IS DISTINCT FROM NEW.seq)
    EXECUTE FUNCTION customers_company_fixed();

INSERT INTO customer_counts (company_id, slot, n)
SELECT company_id, seq % 16, count(*) FROM customers GROUP BY 1, 2;

-- Idempotency-Key (api-contract.md): scoped to company, method and path.
-- A claim (status NULL) is taken right before the create transaction and
-- expires at claimed_until; the create commits the answer (status and the
-- exact body bytes) in the same transaction as the customer. Answers that
-- are not stored (4xx validation, 500, 503, 507) release the claim. The
-- daemon's sweeper removes keys older than 24 hours.
CREATE TABLE idempotency_keys (
    company_id    uuid NOT NULL REFERENCES companies (id),
    method        text NOT NULL,
    path          text NOT NULL,
    key           text NOT NULL CHECK (key ~ '^[!-~]{1,255}$'),
    fingerprint   bytea NOT NULL CHECK (length(fingerprint) = 32),
    claim_token   text NOT NULL,
    claimed_until timestamptz NOT NULL,
    status        integer,
    body          text,
    customer_id   uuid REFERENCES customers (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (company_id, method, path, key),
    CHECK ((status IS NULL) = (body IS NULL))
);
CREATE INDEX idempotency_keys_age_idx ON idempotency_keys (created_at);

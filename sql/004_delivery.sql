-- salesd deliveries, version 4: the delivery ledger. One row per report
-- delivery to one recipient over one channel, so that a re-run never sends
-- what was sent (DESIGN.md "idempotency").
-- Applied inside the configured schema (the search_path when this runs).

-- The contract (there is no exactly-once across a crash between the
-- server's acceptance and our write): the row says 'sending' before the
-- message goes out and 'sent' with the server's reply right after. A
-- 'sending' row found later means a crash in that gap: it becomes 'unknown'
-- and is not sent again by itself (only a forced run does), because the
-- server may well have accepted it. 'failed' (refused, or not accepted
-- before the error) is sent again by the next run.
CREATE TABLE delivery (
    id          bigserial PRIMARY KEY,
    report      text NOT NULL,          -- daily, weekly, monthly
    period      text NOT NULL,          -- 2026-11-22, 2026-W47, 2026-11
    store       text NOT NULL,          -- '*' for the company-wide report
    channel     text NOT NULL CHECK (channel IN ('email', 'whatsapp')),
    recipient   text NOT NULL,          -- an address, or a chat name
    state       text NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'unknown')),
    message_id  text,                   -- e-mail: the Message-ID sent
    reply       text,                   -- the server's reply, or why it failed
    attempts    integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    UNIQUE (report, period, store, channel, recipient)
);
CREATE INDEX delivery_recent ON delivery (updated_at);

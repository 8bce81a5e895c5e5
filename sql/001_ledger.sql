-- salesd ledger, version 1: every task instance (job, period, store) and every
-- attempt at it. Applied by "salesd migrate" (and at start-up) inside the
-- configured schema, which is the search_path when this runs.

CREATE TABLE task_instance (
    id          bigserial PRIMARY KEY,
    job         text NOT NULL,
    period      text NOT NULL,          -- 2026-11-22, 2026-W47 or 2026-11
    store       text NOT NULL DEFAULT '',  -- '' for company-wide tasks
    state       text NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'running', 'retry', 'succeeded', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    not_before  timestamptz,            -- earliest next attempt, for state 'retry'
    error       text,                   -- last error, for 'retry' and 'failed'
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job, period, store)
);

CREATE TABLE task_attempt (
    instance_id bigint NOT NULL REFERENCES task_instance (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    state       text NOT NULL
                CHECK (state IN ('running', 'succeeded', 'failed', 'timeout', 'abandoned')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    host        text NOT NULL,
    pid         integer NOT NULL,
    exit_status integer,
    error       text,
    PRIMARY KEY (instance_id, attempt)
);

CREATE INDEX task_attempt_started ON task_attempt (started_at DESC);
CREATE INDEX task_instance_state ON task_instance (state) WHERE state IN ('running', 'retry', 'failed');

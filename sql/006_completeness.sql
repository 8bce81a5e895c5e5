-- salesd sales data, version 6: the completeness gate (docs/completeness.md).
-- A loaded day is judged against the chain's own recent history before
-- anything is delivered from it; a day that falls short is 'incomplete':
-- its lines and KPIs are there for analysts, its reports are held.
-- Applied inside the configured schema (the search_path when this runs).

ALTER TABLE etl_day DROP CONSTRAINT etl_day_state_check;
ALTER TABLE etl_day ADD CONSTRAINT etl_day_state_check
    CHECK (state IN ('loaded', 'quarantined', 'incomplete'));

-- An incomplete day may be released: by an operator ("salesd run etl
-- --accept-incomplete": 'accepted', its reports go out as they are), or at
-- the settle deadline under [source] incomplete = deliver-with-warning
-- ('warning': its reports carry a banner naming what is missing). A
-- release belongs to the day, not to one load of it: a reload keeps it.
ALTER TABLE etl_day
    ADD COLUMN released    text CHECK (released IN ('accepted', 'warning')),
    ADD COLUMN released_by text,
    ADD COLUMN released_at timestamptz;

-- What the gate judges by: each store's count of POS lines per day, as
-- loaded (excluded stores left out). Replaced with each load of the day.
CREATE TABLE etl_store_day (
    day    date NOT NULL,
    store  text NOT NULL,
    lines  bigint NOT NULL,
    PRIMARY KEY (day, store)
);

-- Why a day is incomplete: a store missing or short against its own recent
-- median, or the whole day short against the 7-day median (store '').
-- Replaced with each load of the day; empty for a complete day.
CREATE TABLE etl_gap (
    day    date NOT NULL,
    store  text NOT NULL,
    kind   text NOT NULL CHECK (kind IN ('missing', 'short', 'day')),
    lines  bigint NOT NULL,                 -- loaded
    median bigint NOT NULL,                 -- what was expected
    PRIMARY KEY (day, store)
);

-- salesd sales data, version 7: restatements (docs/completeness.md). The POS
-- system may change a day after it was loaded (late uploads, voided
-- invoices); the ETL re-fetches recent days and compares their content.
-- Applied inside the configured schema (the search_path when this runs).

-- digest: of the day's content as loaded (normalised records, in any
-- order; lib/etl/digest.h). version: 1 for the first content, one more for
-- each load whose content differs.
ALTER TABLE etl_day
    ADD COLUMN digest  text,
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);

-- What a restatement changed, per store: a row for each store whose lines
-- or sales differ between the previous version and this one. Recorded when
-- the day's reports could have gone out before (it was loaded, or released).
CREATE TABLE etl_restatement (
    day         date NOT NULL,
    version     integer NOT NULL,           -- the new version
    store       text NOT NULL,
    old_lines   bigint NOT NULL,
    new_lines   bigint NOT NULL,
    old_sales   numeric NOT NULL,
    new_sales   numeric NOT NULL,
    restated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, version, store)
);

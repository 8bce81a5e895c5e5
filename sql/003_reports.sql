-- salesd reports, version 3: stable file-system names for stores, and the
-- index the per-store weekly and monthly reports read the sales lines by.
-- Applied inside the configured schema (the search_path when this runs).

-- A store's slug names its report files (reports/weekly/2026-W47/SLUG.pdf).
-- It is assigned once, the first time a report is rendered for the store,
-- and never changes: a later store whose name slugs alike gets a suffix
-- (-2, -3, ...), and "company" is taken by the company-wide reports.
CREATE TABLE store_slug (
    store       text PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    assigned_at timestamptz NOT NULL DEFAULT now()
);

-- A store's report reads its own lines of a week or month: a few thousand
-- of the millions in those partitions. The ETL builds this index on each
-- new day before it swaps the day in, so the swap does not build it while
-- holding the table's lock.
CREATE INDEX sales_line_store ON sales_line (store);

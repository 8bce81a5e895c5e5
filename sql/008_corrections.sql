-- salesd deliveries, version 8: corrections (docs/email.md "Corrections").
-- A report that went out and was rendered again with other figures (the POS
-- system restated a day) is sent once more to whoever got it, as a
-- correction: a new version of the same delivery, with a Message-ID of its
-- own. Version 1 is the original; each correction is the latest plus one.
-- Applied inside the configured schema (the search_path when this runs).

-- figures: the sales of each store the delivery carried, as the rendered
-- report's manifest had them (its "stores" object, minor units, as JSON
-- text). The next run compares them with the report as rendered now; a row
-- without them (sent by an older salesd) is never corrected.
ALTER TABLE delivery
    ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN figures text;

-- One row per version of a delivery. The old key is the one PostgreSQL named
-- for 004's UNIQUE (report, period, store, channel, recipient).
ALTER TABLE delivery DROP CONSTRAINT delivery_report_period_store_channel_recipient_key;
ALTER TABLE delivery ADD CONSTRAINT delivery_key
    UNIQUE (report, period, store, channel, recipient, version);

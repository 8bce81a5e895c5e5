-- salesd deliveries, version 9: WhatsApp's fallback to e-mail
-- (docs/whatsapp.md "Fallback to e-mail"). When a chat cannot get a report on
-- WhatsApp (the profile needs a login, the last attempt failed, the deadline
-- passed, or a send ended 'unknown'), the report goes by e-mail to the
-- chat's fallback addresses: an 'email' row whose recipient is
-- "ADDRESS (fallback for WhatsApp CHAT)", so that the unique key makes it
-- once per report, chat and address, and which points at the WhatsApp row
-- it stands in for.
-- Applied inside the configured schema (the search_path when this runs).
ALTER TABLE delivery
    ADD COLUMN fallback_of bigint REFERENCES delivery (id) ON DELETE SET NULL;


-- salesd ledger, version 5: retry rounds. A forced run ("salesd run ...
-- --force") starts a new round with the job's whole retry budget, while
-- task_attempt keeps every attempt ever made: attempts keeps counting, and
-- round_start is the number of attempts made before the current round
-- began, so the retry limit counts attempts - round_start.
-- Applied inside the configured schema (the search_path when this runs).

ALTER TABLE task_instance ADD COLUMN round_start integer NOT NULL DEFAULT 0
    CHECK (round_start >= 0);

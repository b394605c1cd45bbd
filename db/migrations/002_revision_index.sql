-- 002: the running revision is the newest applied one; look it up by status.
CREATE INDEX revisions_status ON revisions(status, number);

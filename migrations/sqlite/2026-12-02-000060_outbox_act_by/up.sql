-- The date a reminder asks the employer to act by, as its text states it (a declaration
-- reminder's filing deadline, a payment reminder's due date; NULL for kinds that name
-- none). The sender cancels a reminder whose date has passed instead of mailing a
-- request that can no longer be met: a reminder held back by an outage, or requeued
-- after it died, must not ask in December to declare by October.
ALTER TABLE outbox ADD COLUMN act_by DATE;

"""Email: message builders (:mod:`.messages`), the outbox and its worker (:mod:`.outbox`)."""

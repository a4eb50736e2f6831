"""Every write that matters, one module per concern. Callers import the module they need:
`from participation.services import lifecycle`, then `lifecycle.schedule_item(actor, item)`.

- voting:        ballots (cast_poll_ballot, cast_referendum_ballot) and check_referendum_choice.
- lifecycle:     readiness, schedule, open and close (close_item is the one close path), publish.
- counting:      the tally's writes (the Result, the opened ballot box), sealed ballots in at the
                 vote (drop_in), and tally_and_publish, what the worker runs after a close.
- consultation:  comments, section reactions, public corrections.
- moderation:    publishing or hiding comments.
- verification:  identity decisions, identity-number cases, the national sign-in, resets.
- feedback:      page feedback answers and reasons.
- notifications: Notification rows claimed per e-mail sent, unsubscribing.
- outbox:        work owed by a change (tallies, mailings), queued by task name.
- trail:         appending to the audit trail (participation/audit.py checks it).

Staff writes take the actor first and ask permissions.require before writing; actor None is the
system (worker, beat, management commands). Each write runs in one transaction with its audit entry,
and each refusal is a ParticipationError (participation/errors.py) with a translated message. No
module outside this package writes a participation model (tests/test_architecture.py checks).
"""

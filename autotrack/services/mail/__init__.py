"""Mail as a channel in: intake.py stores and processes received mail (it raises and answers
tickets), mailboxes.py fetches it over IMAP. Outgoing mail is the outbox, in the kernel."""

"""The keys of the deadline rules (``DeadlineRule``), named once: every deadline is
``workdays.deadline(KEY, start)`` and every text that states one takes its number of working days
from ``workdays.deadline_days(KEY, on)``, so that a changed regulation is an edit on the calendar
page, not a release. The rules themselves are data, seeded by migrations (which keep their own
copies of the keys, as migrations must)."""

from __future__ import annotations

# Decisions are published within this many working days of the decision (the day itself not counted).
DISCLOSURE_PUBLISH = "disclosure.publish"
# A published decision that is revoked or changed is withdrawn within this many working days.
DISCLOSURE_WITHDRAW = "disclosure.withdraw"
# An objection to a record is answered within this many working days of receipt.
OBJECTION_ANSWER = "objection.answer"
# A complaint or tip-off is answered within this many working days (a service standard).
COMPLAINT_ANSWER = "complaint.answer"
# An entity may state its defence against an intended breach finding for this many working days.
PLEDGE_BREACH_DEFENCE = "pledges.breach_defence"

"""Identity resolution: who is this person? One rule (``rule``) fed by one set of look-ups (``lookup``).

``identity_resolve`` answers for one inbound contact, ``identity_resolve_many`` for a batch (an import,
an API bulk upsert), and ``identity_within_batch`` resolves the rows of one batch against each other
by the same rule, so the outcome never depends on row order.
"""

from customers.services.identity.batch import BatchRow, identity_within_batch
from customers.services.identity.lookup import (
    Candidate,
    IdentityResult,
    evidence_build,
    identity_resolve,
    identity_resolve_many,
    known_from_evidence,
)
from customers.services.identity.rule import (
    Decision,
    Evidence,
    Known,
    Outcome,
    assess,
    decide,
    names_compare,
    reason_label,
)

__all__ = [
    "BatchRow",
    "Candidate",
    "Decision",
    "Evidence",
    "IdentityResult",
    "Known",
    "Outcome",
    "assess",
    "decide",
    "evidence_build",
    "identity_resolve",
    "identity_resolve_many",
    "identity_within_batch",
    "known_from_evidence",
    "names_compare",
    "reason_label",
]

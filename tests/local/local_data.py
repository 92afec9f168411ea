"""Data shared by the local-model tests: eight support tickets, two per queue, as chat rows."""

from __future__ import annotations

SYSTEM = "Sort the ticket. Reply with one word: billing, technical, account or shipping."
TICKETS = [
    ("I was charged twice for my order.", "billing"),
    ("The app crashes when I open my basket.", "technical"),
    ("I forgot my password and cannot log in.", "account"),
    ("My parcel never arrived.", "shipping"),
    ("Please refund the duplicate payment.", "billing"),
    ("The checkout page shows error 500.", "technical"),
    ("How do I change the email on my profile?", "account"),
    ("The courier left the box at the wrong house.", "shipping"),
]
"""Eight tickets, two per queue."""


def chat_row(ticket: str, label: str) -> dict[str, object]:
    """One chat training row for ``ticket``."""
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": ticket},
            {"role": "assistant", "content": label},
        ]
    }

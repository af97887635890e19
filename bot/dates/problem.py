"""What the reader raises when a phrase cannot become one instant, before it is worded for chat."""

from __future__ import annotations


class PhraseProblem(Exception):
    """A phrase the reader will not guess at.

    `message` says which part could not be placed, in the user's words; `examples` are phrases that may work
    instead. `parse_when` keeps only the examples that it accepts itself, then raises InvalidTime.
    """

    def __init__(self, message: str, *, examples: tuple[str, ...] = (), unplaced: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.examples = examples
        self.unplaced = unplaced  # a word that is no word of time phrases at all

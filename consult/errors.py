"""The one base class of the domain's refusals.

A service refuses a change by raising a subclass of ``DomainError`` whose message is the
rule's words, in Vietnamese, for the user. One handler, registered in ``create_app``
(``consult.pages.refused``), turns any of them that leaves a view into a rollback of the
request's transaction, those words and a status code; a page that shows its form again
with the message beside the field uses ``consult.pages.act`` / ``attempt``, which roll back
the same way. Which rule refused is told by the class (and its data: ``status``, ``field``,
a subclass's own attributes), never by the words of the message.

This module imports nothing, so that any service, and the small modules a citizen may
audit (``consult.polls.secrecy``), can raise these without pulling in Flask.
"""

from __future__ import annotations


class DomainError(ValueError):
    """A rule of the domain refused what was asked; ``str(error)`` is the rule's words.

    ``status`` is the HTTP status a page answers with when it shows the refusal (422: the
    request was understood, the rule refused it); a subclass or a single raise may set
    another (409 for a ballot already cast). ``field`` names the form field the message
    belongs to, when there is one, so that a form can show it beside that field;
    ``problems`` maps several fields to their own messages when a form is refused for more
    than one reason at once (the message is then all of them).

    A ValueError still, so that code written as ``except ValueError`` keeps working.
    """

    status: int = 422
    field: str | None = None
    problems: dict[str, str] = {}

    def __init__(self, *args, field: str | None = None, status: int | None = None,
                 problems: dict[str, str] | None = None):
        if problems and not args:
            args = (" ".join(problems.values()),)
        super().__init__(*args)
        if field is not None:
            self.field = field
        if problems:
            self.problems = dict(problems)
            if field is None and len(problems) == 1:
                self.field = next(iter(problems))
        if status is not None:
            self.status = status

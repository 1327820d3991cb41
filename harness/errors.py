"""Errors that mean 'bad input or a state the user can fix': the CLI prints one line and exits 2.

Every such error subclasses `UserError`. Its message names the input and what to do; the console scripts print
`error: <message>` on stderr with no traceback (`--debug` shows it). This module imports nothing from the
package, so any module may raise a UserError without an import cycle.
"""

from __future__ import annotations


class UserError(Exception):
    """A bad input or fixable state: one line on stderr, exit status 2."""

    exit_code = 2

    def one_line(self) -> str:
        text = " ".join(str(self).split())
        return text or type(self).__name__

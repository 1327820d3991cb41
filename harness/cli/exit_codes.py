"""One exit-code rule for every command of the CLI and submit.py (docs/errors.md).

0 success; 1 the command ran and its outcome is a failure (a gate check failed, `verify` found a mismatch, `submit`
left a model off the board because its scorer failed the sanity check); 2 a user error (one `error:` line); 130 /
143 interrupted by Ctrl-C / SIGTERM (what is kept, and whether a rerun resumes, is in the message).
"""

from __future__ import annotations

OK = 0
FAILED = 1  # ran; the outcome is a failure
USER_ERROR = 2
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
TERMINATED = 143  # SIGTERM (128 + SIGTERM)

EPILOG = ("exit status: 0 success; 1 ran, outcome is a failure (a gate check failed, verify found a mismatch, "
          "submit left the model off the board after a failed sanity check); 2 user error (one `error:` line); "
          "130 interrupted (Ctrl-C), 143 terminated (SIGTERM); see docs/errors.md")

"""The errors that mean 'bad input': the CLI prints their message (which says what to do) without a traceback."""

from harness.models.loading import ModelLoadError
from harness.models.scorer import OutputError
from harness.models.templates import TemplateError
from harness.scoring.table import TableStoreError
from harness.tasks.spec import TaskSpecError

USER_ERRORS = (ModelLoadError, OutputError, TemplateError, TableStoreError, TaskSpecError)

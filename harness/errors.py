"""The errors that mean 'bad input': the CLI prints their message (which says what to do) without a traceback."""

from harness.cached_tables import CachedTablesError
from harness.compare import CompareError
from harness.models.loading import ModelLoadError
from harness.models.scorer import OutputError
from harness.models.templates import TemplateError
from harness.scoring.table import TableStoreError
from harness.tasks.runner import TaskRunError
from harness.tasks.spec import TaskSpecError

USER_ERRORS = (CachedTablesError, CompareError, ModelLoadError, OutputError, TemplateError, TableStoreError, TaskRunError, TaskSpecError)

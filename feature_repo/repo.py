"""What the `feast` CLI reads (`engageflow feast plan|apply|materialize ...`).

Feast collects module-level objects from the repo's Python files, so this one module builds
them from the settings of the calling environment at import. Everything else in the project
calls `feature_repo.definitions.definitions(settings)` instead.
"""

from feature_repo.compat import quiet_file_registry_warning
from feature_repo.definitions import definitions
from feature_repo.store import cli_settings

quiet_file_registry_warning()  # `feast plan|apply` build the registry config after this import
_declared = definitions(cli_settings())
globals().update({f"{type(obj).__name__}_{obj.name}": obj for obj in _declared.objects()})

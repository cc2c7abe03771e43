"""What the `feast` CLI reads (`engageflow feast plan|apply|materialize ...`).

Feast collects module-level objects from the repo's Python files, so this one module builds
them from the settings of the calling environment at import. Everything else in the project
calls `feature_repo.definitions.definitions(settings)` instead.
"""

from engageflow.settings import get_settings
from feature_repo.compat import quiet_file_registry_warning
from feature_repo.definitions import definitions

quiet_file_registry_warning()  # `feast plan|apply` build the registry config after this import
_declared = definitions(get_settings())
globals().update({f"{type(obj).__name__}_{obj.name}": obj for obj in _declared.objects()})

"""Import real interaction logs (CSV or Parquet) into the landing zone in the event schema.

A column mapping says which source column is the user, item and timestamp, and how the action is
recorded: an event-type column, a rating (impression + click, plus like or hide by threshold) or
a dwell time (impression, plus a click when dwell > 0). Users and request ids are pseudonymized
here, unmapped columns never reach storage, and every check runs before the first write or
the first use of the pseudonym key.

`mapping` (what the user tells), `source` (reading the file), `checks` (every check on the rows),
`land` (events in the schema, written per day), `catalog` (one item file, a snapshot a day) and
`users` (a user table's coarse attributes).
"""

from engageflow.importer.catalog import CatalogMapping, ImportedItems, import_items
from engageflow.importer.land import Imported, import_events
from engageflow.importer.mapping import ColumnMapping, ImportInputError, parse_zone
from engageflow.importer.users import ImportedUsers, UserMapping, import_users

__all__ = [
    "CatalogMapping",
    "ColumnMapping",
    "ImportInputError",
    "Imported",
    "ImportedItems",
    "ImportedUsers",
    "UserMapping",
    "import_events",
    "import_items",
    "import_users",
    "parse_zone",
]

"""Great Expectations workarounds, one place: each names the failure it answers, and goes once
the installed GX no longer needs it."""

from __future__ import annotations

import numpy as np
import pandas as pd

# GX 1.24 (expectations/metrics/column_map_metrics/column_values_between.py, pandas engine)
# compares a column with its bounds vectorised only when `column.dtype in [int, float]`, i.e.
# int64 or float64; any other numeric dtype goes through a Python function per row. Seen: the
# training set's int16 `position` took ~1.2 s of its check per 1M rows. Widening is lossless.
WIDE = {"i": np.int64, "u": np.int64, "f": np.float64}


def with_wide_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its narrower NumPy ints and floats as int64 and float64 (values unchanged)."""
    narrow = {
        name: WIDE[dtype.kind]
        for name, dtype in frame.dtypes.items()
        if isinstance(dtype, np.dtype)
        and dtype.kind in WIDE
        and dtype != WIDE[dtype.kind]
        and not (dtype.kind == "u" and dtype.itemsize == 8)  # uint64 does not fit int64
    }
    return frame.astype(narrow) if narrow else frame

"""Pure feature engineering: (lake events, catalog, window end) -> one frame per feature view.

Every frame is stamped at the window end `end` and uses only events strictly before it, so a row
stamped t can join any training example at or after t without seeing its future.
"""

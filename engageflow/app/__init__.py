"""The app on top of the stages: the CLI, the demo, the loop driver, the simulator's driver and the
local stack. It may import every stage; nothing below imports it (import-linter: pyproject.toml)."""

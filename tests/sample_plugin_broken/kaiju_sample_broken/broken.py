"""A plugin whose import raises."""

raise RuntimeError("sample plugin is broken on purpose")

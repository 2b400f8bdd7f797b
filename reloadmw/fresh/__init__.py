"""The fresh interpreter: the new code, imported apart from the server's old processes.

- ``preflight``: before a restart, whether the new code imports at all (where nothing
  else says so);
- ``answer`` (the worker's side): a request held after a change, answered by a fresh
  interpreter, shared by an edit's old workers where it can be (``shared``);
- ``child`` (the interpreter's side): it imports the new code, says how that went (the
  gate before the restart), then answers the requests sent to it;
- ``frames``: what goes between them.

Nothing here is imported until a change is found: ``import reloadmw`` needs none of it.
"""

"""What to serve: targets (``module:app``, a factory, an ini file), the names they use, the
PasteDeploy filter, and the listing of the files a target would have watched.

- ``targets``: ``import_app`` and ``TargetError``, for ``reloadmw serve`` and ``reloadmw
  files``;
- ``names``: ``package.module:attribute`` names, found;
- ``paste``: ``filter_factory`` and ``filter_app_factory`` (``egg:reloadmw``);
- ``listing``: what ``reloadmw files`` prints.
"""

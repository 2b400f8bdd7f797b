# A WSGI script that survives a broken edit: if importing the application raises,
# clients on this host get the traceback and the process restarts on the next change.
from reloadmw import import_app

application = import_app("hello:application", interval=1)

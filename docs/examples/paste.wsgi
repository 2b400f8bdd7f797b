# A WSGI script for mod_wsgi that loads development.ini, [filter:reload] included.
import os

from paste.deploy import loadapp

here = os.path.dirname(os.path.abspath(__file__))
application = loadapp("config:" + os.path.join(here, "development.ini"))

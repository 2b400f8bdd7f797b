"""Small WSGI applications that the tests serve, in process and in real servers."""

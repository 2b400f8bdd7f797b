"""wsgiref under a supervisor: run this file again whenever it exits with status 3."""

from wsgiref.simple_server import make_server

from hello_wrapped import application

if __name__ == "__main__":
    make_server("127.0.0.1", 8000, application).serve_forever()

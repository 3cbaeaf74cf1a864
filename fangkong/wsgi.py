import os

from django.core.wsgi import get_wsgi_application

from fangkong import envfile

envfile.load()  # var/demo.env outside production; the real environment wins
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
application = get_wsgi_application()

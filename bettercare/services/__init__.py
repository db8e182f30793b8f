"""The web app's use cases, without HTTP.

Functions take a database session and the acting principal and return view models;
they are tested without a server.
"""

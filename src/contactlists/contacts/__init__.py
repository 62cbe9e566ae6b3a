"""Contacts without a list: the search preview (`POST /v1/contacts/search`)."""

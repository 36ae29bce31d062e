"""The Documents page, its background indexing, and the chat's collection picker.

Nothing is imported here: the page and the indexing are built on first use, so start-up
does not pay for the documents core.
"""

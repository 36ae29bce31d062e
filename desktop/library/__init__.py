"""The model library: curated catalog, Hub search, resumable verified downloads, fit labels.

Import the submodules you need (catalog, hardware, hub, downloads, installed); nothing here is
imported eagerly, so app start-up stays fast and never touches the network.
"""

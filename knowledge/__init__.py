"""Knowledge base, directory of services and search."""

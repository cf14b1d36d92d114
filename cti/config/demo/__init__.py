"""The shipped demo centre: YAML files only (a package so that they are installed with the code)."""

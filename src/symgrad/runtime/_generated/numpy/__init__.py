"""Generated modules for one backend (see symgrad.codegen.regenerate)."""

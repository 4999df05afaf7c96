"""Generated modules (see symgrad.codegen.regenerate)."""

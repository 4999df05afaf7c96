"""The lecture's objectives, one concept per module; each module registers its derivations on import."""

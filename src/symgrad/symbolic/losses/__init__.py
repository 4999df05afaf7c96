"""The compiled losses of a linear model's scores, one module each, named after the loss.

Each module defines ``LOSS``, a :class:`symgrad.symbolic.linear_model_loss.LinearModelLoss` whose name is the
module's name. Adding a file here (and running ``python -m symgrad.codegen.regenerate``) makes a loss compiled,
proved, checked, trainable and documented everywhere: see ``CONTRIBUTING.md``.
"""

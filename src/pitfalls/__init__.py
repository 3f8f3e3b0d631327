"""Helper package of the book on the pitfalls of the residual error as anomaly score.

One concern per module, data flowing one way::

    data -> anomalies -> reconstruction -> scores -> metrics
                                                  \\-> sweeps -> plots
"""

__version__ = "0.1.0"

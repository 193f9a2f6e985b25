"""Apache Spark as a training engine: MLlib's implicit ALS and the EASE Gram matrix over a cluster.

Nothing here is imported unless Spark is asked for (``--engine spark``, the ``spark-als`` model):
``import movierec`` and every other command never load pyspark. What Spark learns comes back as
NumPy arrays in an ordinary model, so a saved model answers without Spark installed.
"""

"""The Python back end: view models per construct (``views``), the fast-path emitters that
return statements (``fast``), the shapes the runtime's checked codec walks (``describe``), and
the templates under ``templates/python/`` that show the code's shape (``render``)."""

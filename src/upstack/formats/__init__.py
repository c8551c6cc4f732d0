"""The files upstack writes and reads back: journal records, a run's folder, metric chunks.

Both sides use them: ``capture`` writes them from inside a training script (no SQL there), and
``store`` reads them into the database. They depend on nothing above ``domain``.
"""

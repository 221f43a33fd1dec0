"""The read side: what a page reads about a learner (ledgers, records, the content snapshot,
certificate facts). Nothing here writes; operations/ is where a request writes.
"""

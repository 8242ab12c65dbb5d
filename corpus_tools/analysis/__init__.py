"""Analysis modules: themes, topics, slogans, statistics."""

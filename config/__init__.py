"""Settings and council profiles: the configuration layer every other package reads."""

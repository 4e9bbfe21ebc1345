"""Use cases: each public function owns one unit of work (one transaction) and takes keywords."""

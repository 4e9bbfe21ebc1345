"""Early Help Hubs: the queue, the monthly meeting and its papers, allocation decisions."""

"""People and households: finding who a referral is about among those already known."""

"""The service directory: the profile's services and partners' imported services, published
as an Open Referral UK 3.0 feed and as public pages; capacity status; onward connections."""

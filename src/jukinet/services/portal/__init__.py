"""The resident portal (住民ポータル): sign-in with the resident card, what each tier holds,
who looked at my data across every tier, and requests queued for the counter."""

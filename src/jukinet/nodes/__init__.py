"""What each role holds, serves and relays."""

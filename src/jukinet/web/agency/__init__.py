"""The agency console (機関照会画面), served on the mutual-TLS port."""

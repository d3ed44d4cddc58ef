"""Signature certificates on the resident card (公的個人認証): issuance, revocation, status."""

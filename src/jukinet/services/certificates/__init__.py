"""Certificates from the register: issued as signed PDFs at the counter, verified by anyone."""

"""Guideline part (13) credit restoration: applications with evidence, review with deadlines, ending the public life of negative information and lifting list entries."""

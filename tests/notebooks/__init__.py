"""Tests of the analysis notebooks: each one runs at small size, and each is stored clean."""

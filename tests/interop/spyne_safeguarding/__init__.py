"""A spyne SOAP service of our own, a JSON stand-in for its modern replacement, and a translator
between them written as mapping files alone (translators/): see test_spyne_mapping_parity.py."""

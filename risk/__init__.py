"""The domain: contract types, errors, data sets and labels."""

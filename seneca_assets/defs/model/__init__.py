"""The silver layer: entities modelled from bronze."""

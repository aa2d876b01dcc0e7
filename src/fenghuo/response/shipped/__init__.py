"""The plans fenghuo ships: a default for every service, one for high grades, one for the
medical sector. A deployment adds its own under <data dir>/plans/ or FENGHUO_PLANS."""

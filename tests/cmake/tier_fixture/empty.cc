// Never compiled: tier_fixture is only configured.

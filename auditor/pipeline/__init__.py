"""The pipeline: gather facts (the I/O half: reads, probes, deadline waits), then audit them (pure) into one Report."""

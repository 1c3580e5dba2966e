"""After the audit: waivers, drift against a baseline, shards and their merge, and the verdict at the gate."""
